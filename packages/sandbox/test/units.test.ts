/** Pieces without a sandbox: allowlist rules, address classes, the seccomp program, cgroup v2 files, driver probes. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalHost, isSpecialAddress, parseAllowRule, PrivateRangeAllowance, ruleMatches } from '../src/egress/allowlist.js';
import { DENIED_SYSCALLS, seccompFilter } from '../src/seccomp.js';
import { CgroupV2Manager } from '../src/cgroups/v2.js';
import { parseMountinfo, parseProcCgroup } from '../src/cgroups/detect.js';
import { cpuVirtualizationProblem, MicrovmDriver } from '../src/drivers/microvm.js';
import { GvisorDriver } from '../src/drivers/gvisor.js';

describe('allowlist', () => {
  test('rules: exact host, wildcard subdomains, default ports, any port, IP literals', () => {
    const exact = parseAllowRule('pypi.org:443');
    assert.equal(ruleMatches(exact, 'pypi.org', 443), true);
    assert.equal(ruleMatches(exact, 'pypi.org', 80), false);
    assert.equal(ruleMatches(exact, 'evil-pypi.org', 443), false);
    const wild = parseAllowRule('*.example.com:*');
    assert.equal(ruleMatches(wild, 'a.b.example.com', 8443), true);
    assert.equal(ruleMatches(wild, 'example.com', 443), false, 'the wildcard is for subdomains only');
    assert.equal(ruleMatches(wild, 'notexample.com', 443), false);
    assert.deepEqual(parseAllowRule('Example.COM.').ports, [80, 443]);
    assert.equal(parseAllowRule('[::1]:8080').host, '::1');
    assert.throws(() => parseAllowRule('host:0'), /port/);
    assert.throws(() => parseAllowRule('*.10.0.0.1:80'), /wildcard/);
  });

  test('special addresses: loopback, private, link-local/metadata, CGNAT, IPv6 forms; public ones pass', () => {
    for (const a of ['127.0.0.1', '10.2.3.4', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00:ec2::254', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '[::ffff:a9fe:a9fe]', '64:ff9b::a00:1', '2002:7f00:1::', '224.0.0.1']) {
      assert.equal(isSpecialAddress(a), true, a);
    }
    for (const a of ['93.184.215.14', '1.1.1.1', '151.101.0.223', '2606:4700::1111']) assert.equal(isSpecialAddress(a), false, a);
    assert.equal(canonicalHost('[::FFFF:7F00:1]'), '127.0.0.1');
    const allowance = new PrivateRangeAllowance(['10.0.0.0/8', '::1']);
    assert.equal(allowance.allows('10.9.9.9'), true);
    assert.equal(allowance.allows('::1'), true);
    assert.equal(allowance.allows('192.168.0.1'), false);
  });
});

describe('seccomp filter', () => {
  test('is a well-formed BPF program: checks the architecture first, ends in ALLOW, every jump lands inside', () => {
    const bpf = seccompFilter();
    assert.equal(bpf.length % 8, 0);
    const n = bpf.length / 8;
    const insn = (i: number) => ({ code: bpf.readUInt16LE(i * 8), jt: bpf[i * 8 + 2]!, jf: bpf[i * 8 + 3]!, k: bpf.readUInt32LE(i * 8 + 4) });
    assert.deepEqual(insn(0), { code: 0x20, jt: 0, jf: 0, k: 4 }, 'load arch');
    assert.equal(insn(1).k, 0xc000003e);
    assert.deepEqual(insn(n - 1), { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 });
    for (let i = 0; i < n; i++) {
      const { code, jt, jf } = insn(i);
      if ((code & 0x07) === 0x05) assert.ok(i + 1 + Math.max(jt, jf) < n, `jump at ${i} stays inside`);
    }
    for (const nr of Object.values(DENIED_SYSCALLS)) assert.ok([...Array(n).keys()].some((i) => insn(i).code === 0x15 && insn(i).k === nr), `syscall ${nr} is checked`);
  });
});

describe('cgroup v2 (against a cgroupfs-shaped directory: these hosts run v1)', () => {
  test('prepare enables controllers; create writes limits; usage, freeze and destroy read and write the v2 files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'oagf-cg2-'));
    try {
      writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
      writeFileSync(join(root, 'cgroup.subtree_control'), 'cpu\n');
      const manager = new CgroupV2Manager(root);
      await manager.prepare();
      assert.equal(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8'), '+memory +pids');
      const realMkdir = join(root, 'exec-1');
      const cgroup = await manager.create('exec-1', { memoryBytes: 64 << 20, pids: 32, cpuCores: 0.5 });
      // A plain mkdir has no interface files, so the optional ones (swap, oom.group) are skipped; the required ones are written.
      assert.equal(readFileSync(join(realMkdir, 'memory.max'), 'utf8'), String(64 << 20));
      assert.equal(readFileSync(join(realMkdir, 'pids.max'), 'utf8'), '32');
      assert.equal(readFileSync(join(realMkdir, 'cpu.max'), 'utf8'), '50000 100000');
      assert.equal(existsSync(join(realMkdir, 'memory.oom.group')), false);
      writeFileSync(join(realMkdir, 'cpu.stat'), 'usage_usec 123456\nuser_usec 100000\n');
      writeFileSync(join(realMkdir, 'memory.peak'), '4096\n');
      writeFileSync(join(realMkdir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
      writeFileSync(join(realMkdir, 'pids.events'), 'max 7\n');
      writeFileSync(join(realMkdir, 'cgroup.events'), 'populated 0\nfrozen 1\n');
      assert.deepEqual(await cgroup.usage(), { cpuMs: 123.456, maxMemoryBytes: 4096, oomKills: 1, pidsLimitHits: 7 });
      await cgroup.freeze();
      assert.equal(readFileSync(join(realMkdir, 'cgroup.freeze'), 'utf8'), '1');
      await cgroup.addProcesses([12345]);
      assert.equal(readFileSync(join(realMkdir, 'cgroup.procs'), 'utf8'), '12345');
      manager.weighParent(3);
      assert.equal(readFileSync(join(root, 'cpu.weight'), 'utf8'), '300', 'the parent weighs as much as three ordinary processes');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a parent without the controllers delegated is explained, not silently used', async () => {
    const root = mkdtempSync(join(tmpdir(), 'oagf-cg2-'));
    try {
      writeFileSync(join(root, 'cgroup.controllers'), 'cpu pids\n');
      writeFileSync(join(root, 'cgroup.subtree_control'), '');
      await assert.rejects(new CgroupV2Manager(root).prepare(), /lacks controllers: memory/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('mountinfo and /proc/self/cgroup parsing (hybrid host)', () => {
    const mounts = parseMountinfo('32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n36 31 0:33 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n');
    assert.deepEqual(mounts.map((m) => [m.mountPoint, m.type, m.controllers]), [
      ['/sys/fs/cgroup/cpu', 'cgroup', ['rw', 'cpu']],
      ['/sys/fs/cgroup/memory', 'cgroup', ['rw', 'memory']],
      ['/sys/fs/cgroup/unified', 'cgroup2', []],
    ]);
    const own = parseProcCgroup('4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n');
    assert.equal(own.get('memory'), '/process_api/abc');
    assert.equal(own.get('cpuacct'), '/');
    assert.equal(own.get('<unified>'), '/');
  });
});

describe('microvm driver', () => {
  test('without vmx/svm it says why it is unavailable', async () => {
    assert.match(cpuVirtualizationProblem('flags\t\t: fpu vme hypervisor sse2\n')!, /neither vmx nor svm \(this host is itself a virtual machine/);
    assert.equal(cpuVirtualizationProblem('flags\t\t: fpu vmx sse2\n'), null);
    const status = await new MicrovmDriver({}).probe();
    assert.equal(status.available, false);
    if (!/\b(vmx|svm)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) assert.match(status.reason, /vmx|svm|\/dev\/kvm/);
  });
});

describe('gvisor driver', () => {
  test('says whether runsc is installed and can start a rootless sandbox here', async () => {
    const options = { uid: 65534, gid: 65534, cgroups: null, unenforcedWarning: null, runtimes: {}, stateDir: tmpdir(), hostFiles: { passwd: '', group: '', hosts: '', forwarder: '' }, extraMounts: [] };
    const missing = await new GvisorDriver({ ...options, runscPath: '/nonexistent/runsc' }).probe();
    assert.deepEqual(missing, { name: 'gvisor', available: false, reason: '/nonexistent/runsc not found (install runsc, Debian package "runsc")' });
    if (!existsSync('/usr/bin/runsc')) return;
    const installed = await new GvisorDriver({ ...options, runscPath: '/usr/bin/runsc' }).probe();
    assert.equal(installed.available, true, installed.reason);
    assert.match(installed.reason, /^runsc version .*, rootless, ptrace platform, no network/);
  });
});
