import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { SandboxError } from '../errors.js';
import type { DriverStatus, ExecutionOutcome } from '../types.js';
import type { Driver } from './driver.js';

export interface MicrovmOptions {
  /** qemu-system-x86_64 (run with `-M microvm -accel kvm`). */
  qemuPath?: string;
  /** Guest kernel (bzImage/vmlinux) and initramfs whose /init prints `bootMarker` on the serial console. */
  kernel?: string;
  initrd?: string;
  bootMarker?: string;
  bootTimeoutMs?: number;
}

const DEFAULT_MARKER = 'OAGF-MICROVM-READY';

function kvmDeviceProblem(): string | null {
  try {
    closeSync(openSync('/dev/kvm', constants.O_RDWR));
    return null;
  } catch (error) {
    return `/dev/kvm cannot be opened (${(error as NodeJS.ErrnoException).code})`;
  }
}

/** Without vmx (Intel) or svm (AMD) in the CPU flags, /dev/kvm may open but no guest kernel boots under it. */
export function cpuVirtualizationProblem(cpuinfo: string): string | null {
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  if (flags.includes('vmx') || flags.includes('svm')) return null;
  const hypervisor = flags.includes('hypervisor') ? ' (this host is itself a virtual machine without nested virtualisation)' : '';
  return `the CPU exposes neither vmx nor svm${hypervisor}, so KVM cannot run guests`;
}

function testBoot(qemu: string, kernel: string, initrd: string, marker: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(qemu, ['-M', 'microvm', '-accel', 'kvm', '-cpu', 'host', '-m', '128', '-smp', '1', '-nodefaults', '-no-user-config', '-nographic', '-no-reboot', '-serial', 'stdio', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 panic=-1 quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const finish = (problem: string | null) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(problem);
    };
    const timer = setTimeout(() => finish(`test boot printed no ${marker} within ${timeoutMs} ms: ${output.slice(-300).trim()}`), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes(marker)) finish(null);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => finish(`${qemu}: ${e.message}`));
    child.once('exit', (code) => finish(output.includes(marker) ? null : `test boot exited (${code}) before ${marker}: ${output.slice(-300).trim()}`));
  });
}

/**
 * Micro-VM tier (QEMU microvm under KVM). It is enabled only after a real test boot on this host succeeds, and
 * even then reports that running executions in the guest is not implemented: it never pretends to isolate.
 */
export class MicrovmDriver implements Driver {
  readonly name = 'microvm' as const;

  constructor(private readonly options: MicrovmOptions) {}

  async probe(): Promise<DriverStatus> {
    const unavailable = (reason: string): DriverStatus => ({ name: this.name, available: false, reason });
    if (process.platform !== 'linux' || process.arch !== 'x64') return unavailable('needs Linux on x86_64');
    const device = kvmDeviceProblem();
    if (device) return unavailable(device);
    const cpu = cpuVirtualizationProblem(readFileSync('/proc/cpuinfo', 'utf8'));
    if (cpu) return unavailable(cpu);
    const qemu = this.options.qemuPath ?? '/usr/bin/qemu-system-x86_64';
    try {
      accessSync(qemu, constants.X_OK);
    } catch {
      return unavailable(`${qemu} not found (install qemu-system-x86)`);
    }
    if (!this.options.kernel || !this.options.initrd) return unavailable('no guest kernel and initramfs configured (microvm.kernel, microvm.initrd)');
    const boot = await testBoot(qemu, this.options.kernel, this.options.initrd, this.options.bootMarker ?? DEFAULT_MARKER, this.options.bootTimeoutMs ?? 10_000);
    if (boot) return unavailable(boot);
    return unavailable('a KVM test boot succeeded, but running executions inside the guest is not implemented yet');
  }

  async run(): Promise<ExecutionOutcome> {
    throw new SandboxError('driver_unavailable', 'the microvm driver cannot run executions on this host');
  }
}
