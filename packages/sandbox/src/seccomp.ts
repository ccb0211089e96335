/**
 * The seccomp filter bubblewrap loads before the code runs, as classic BPF (bwrap --seccomp takes the compiled
 * program). Namespaces and dropped capabilities already stop most of these; the filter removes the kernel surface
 * (new namespaces, mounts, ptrace, keyrings, BPF, io_uring, module and kexec calls, raw sockets) outright.
 * x86_64 only: on any other architecture the bwrap driver reports itself unavailable rather than run unfiltered.
 */

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;

const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

// BPF opcodes
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const AND_K = 0x54;
const RET_K = 0x06;

const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;

/** x86_64 numbers of calls refused with EPERM. */
export const DENIED_SYSCALLS: Record<string, number> = {
  ptrace: 101,
  syslog: 103,
  uselib: 134,
  vhangup: 153,
  pivot_root: 155,
  chroot: 161,
  acct: 163,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  lookup_dcookie: 212,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
};

const SYS_CLONE = 56;
const SYS_CLONE3 = 435;
const SYS_SOCKET = 41;
const SYS_IOCTL = 16;

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (0x80 is the exit signal in clone(), not NEWTIME). */
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
const AF_PACKET = 17;
const SOCK_TYPE_MASK = 0xf;
const SOCK_RAW = 3;
const SOCK_PACKET = 10;
const TIOCSTI = 0x5412;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k });
const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k });

function program(): Insn[] {
  const deny = RET_ERRNO | EPERM;
  const p: Insn[] = [
    stmt(LD_W_ABS, OFFSET_ARCH),
    jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
    stmt(RET_K, RET_KILL_PROCESS),
    stmt(LD_W_ABS, OFFSET_NR),
    // x32 ABI calls alias the x86_64 table with a high bit; refuse the whole ABI.
    jump(JGE_K, X32_SYSCALL_BIT, 0, 1),
    stmt(RET_K, deny),
  ];
  for (const nr of Object.values(DENIED_SYSCALLS)) p.push(jump(JEQ_K, nr, 0, 1), stmt(RET_K, deny));
  // clone3 passes flags in memory the filter cannot read: ENOSYS makes libc fall back to clone(), which it can.
  p.push(jump(JEQ_K, SYS_CLONE3, 0, 1), stmt(RET_K, RET_ERRNO | ENOSYS));
  p.push(
    jump(JEQ_K, SYS_CLONE, 0, 3),
    stmt(LD_W_ABS, argLow(0)),
    jump(JSET_K, CLONE_NAMESPACE_FLAGS, 0, 1),
    stmt(RET_K, deny),
    stmt(LD_W_ABS, OFFSET_NR),
  );
  p.push(
    jump(JEQ_K, SYS_SOCKET, 0, 8),
    stmt(LD_W_ABS, argLow(0)),
    jump(JEQ_K, AF_PACKET, 0, 1),
    stmt(RET_K, deny),
    stmt(LD_W_ABS, argLow(1)),
    stmt(AND_K, SOCK_TYPE_MASK),
    jump(JEQ_K, SOCK_RAW, 1, 0),
    jump(JEQ_K, SOCK_PACKET, 0, 1),
    stmt(RET_K, deny),
    stmt(LD_W_ABS, OFFSET_NR),
  );
  // TIOCSTI pushes input into a terminal; a sandbox given the caller's tty could type commands into its shell.
  p.push(jump(JEQ_K, SYS_IOCTL, 0, 3), stmt(LD_W_ABS, argLow(1)), jump(JEQ_K, TIOCSTI, 0, 1), stmt(RET_K, deny));
  p.push(stmt(RET_K, RET_ALLOW));
  return p;
}

let compiled: Buffer | undefined;

/** The filter as `struct sock_filter[]` bytes (little-endian, the only byte order of x86_64). */
export function seccompFilter(): Buffer {
  if (compiled) return compiled;
  const insns = program();
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(insn.jt, i * 8 + 2);
    out.writeUInt8(insn.jf, i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  compiled = out;
  return out;
}

export function seccompSupported(): boolean {
  return process.arch === 'x64';
}
