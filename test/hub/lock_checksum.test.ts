import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, readLockInfo, withLock } from '../../src/clip/hub/lock.ts';
import { hashFile, parseEtag } from '../../src/clip/hub/checksum.ts';
import { expectedChecksum } from '../../src/clip/hub/download.ts';
import { hfHubCacheDir } from '../../src/clip/hub/hf_snapshot.ts';
import { envFlag } from '../../src/clip/hub/settings.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'rwda-lock-'));
}

test('parseEtag: W/ and quotes stripped; 64 hex = sha256, 40 hex = git blob sha1, anything else verifies nothing', () => {
  const sha = 'a'.repeat(64);
  assert.deepEqual(parseEtag(`"${sha}"`), { kind: 'sha256', value: sha, raw: `"${sha}"` });
  assert.equal(parseEtag(`W/"${'B'.repeat(40)}"`)?.value, 'b'.repeat(40));
  assert.equal(parseEtag(`W/"${'B'.repeat(40)}"`)?.kind, 'git-sha1');
  assert.equal(parseEtag('"cdn-1234"')?.kind, 'none');
  assert.equal(parseEtag(''), undefined);
  assert.equal(parseEtag(undefined), undefined);
});

test('expectedChecksum: X-Linked-Etag wins; otherwise the ETag of the last answer from the endpoint origin', () => {
  const ep = 'http://127.0.0.1:1';
  const hop = (origin: string, headers: Record<string, string>) => ({ url: new URL(`${origin}/x`), status: 200, headers });
  const sha = 'c'.repeat(64);
  const git = 'd'.repeat(40);
  assert.equal(expectedChecksum([hop(ep, { etag: `"${git}"`, 'x-linked-etag': `"${sha}"` }), hop('http://cdn:2', { etag: '"e"' })], ep)?.value, sha);
  assert.equal(expectedChecksum([hop(ep, { etag: `"${git}"` }), hop('http://cdn:2', { etag: `"${'f'.repeat(64)}"` })], ep)?.value, git);
  assert.equal(expectedChecksum([hop('http://cdn:2', { etag: `"${sha}"` })], ep), undefined);
});

test('hashFile: sha256 and git blob sha1 agree with known values (and with git itself when installed)', async () => {
  const dir = tmp();
  try {
    const p = join(dir, 'hello');
    writeFileSync(p, 'hello\n');
    const d = await hashFile(p);
    assert.equal(d.size, 6);
    assert.equal(d.sha256, '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
    assert.equal(d.gitSha1, 'ce013625030ba8dba906f756967f9e9ca394464a');
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    assert.equal((await hashFile(empty)).gitSha1, 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    const git = spawnSync('git', ['hash-object', p], { encoding: 'utf8' });
    if (git.status === 0) assert.equal(git.stdout.trim(), d.gitSha1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lock: a second in-process acquirer waits until the first releases', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'm.lock');
    const order: string[] = [];
    const first = withLock(path, { pollMs: 10 }, async () => {
      order.push('a start');
      await new Promise((r) => setTimeout(r, 150));
      order.push('a end');
    });
    await new Promise((r) => setTimeout(r, 20));
    let waited = false;
    const second = withLock(path, { pollMs: 10, onWait: () => (waited = true) }, async () => {
      order.push('b');
    });
    await Promise.all([first, second]);
    assert.deepEqual(order, ['a start', 'a end', 'b']);
    assert.equal(waited, true);
    assert.equal(existsSync(path), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lock: one left by a dead process on this host is broken; a live holder makes waiting time out with its pid', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'm.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(path, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), created: 'then', id: 'x' }));
    const release = await acquireLock(path, { timeoutMs: 2000, pollMs: 10 });
    assert.equal(readLockInfo(path)?.pid, process.pid);
    await assert.rejects(acquireLock(path, { timeoutMs: 200, pollMs: 10 }), new RegExp(`timed out after 0\\.2 s waiting for lock .*held by pid ${process.pid}`));
    release();
    assert.equal(existsSync(path), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lock: a lock from another host is stale only once its mtime is older than staleMs', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'm.lock');
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere', created: 'then', id: 'y' }));
    await assert.rejects(acquireLock(path, { timeoutMs: 100, pollMs: 10, staleMs: 60_000 }), /held by pid 1 on elsewhere/);
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    const release = await acquireLock(path, { timeoutMs: 1000, pollMs: 10, staleMs: 60_000 });
    release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('huggingface_hub cache location and boolean variables follow huggingface_hub', () => {
  assert.equal(hfHubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' }), '/a');
  assert.equal(hfHubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/c' }), '/b/hub');
  assert.equal(hfHubCacheDir({ XDG_CACHE_HOME: '/c' }), '/c/huggingface/hub');
  for (const v of ['1', 'ON', 'yes', 'True']) assert.equal(envFlag(v), true, v);
  for (const v of [undefined, '', '0', 'off', 'no']) assert.equal(envFlag(v), false, String(v));
});
