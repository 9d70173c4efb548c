// The machine the bench ran on, and its theoretical float32 peak.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

/**
 * Cores, CPU model, clock, SIMD width, and the float32 peak estimated as
 * cores x GHz x FLOPs per cycle (two FMA pipes x lanes of the widest SIMD x 2 FLOPs per FMA).
 */
export function describeMachine() {
  const info = readCpuInfo();
  const cores = availableParallelism();
  const flags = new Set((info.flags ?? '').split(/\s+/));
  const simd = flags.has('avx512f') ? 512 : flags.has('avx2') ? 256 : flags.has('sse2') ? 128 : 64;
  const fma = flags.has('fma') || flags.has('avx512f');
  const lanes = simd / 32;
  // Zen 4 (AMD family 25) runs 512-bit instructions as two 256-bit halves: half the peak per op.
  const halfRate = info.vendor_id === 'AuthenticAMD' && Number(info['cpu family']) === 25 && simd === 512;
  const flopsPerCycle = 2 * lanes * (fma ? 2 : 1) * (halfRate ? 0.5 : 1);
  const ghz = Number(info['cpu MHz'] ?? 0) / 1000;
  return {
    cores,
    model: info['model name'] ?? 'unknown',
    family: info['cpu family'] ? Number(info['cpu family']) : null,
    ghz,
    simdBits: simd,
    fma,
    flopsPerCycle,
    peakGflops: cores * ghz * flopsPerCycle,
    peakMethod:
      `${cores} cores x ${ghz.toFixed(2)} GHz (cpu MHz in /proc/cpuinfo) x ${flopsPerCycle} FLOP/cycle ` +
      `(2 FMA pipes x ${lanes} float32 lanes of ${simd}-bit SIMD x ${fma ? 2 : 1} FLOP${halfRate ? ' x 0.5 for double-pumped AVX-512' : ''})`,
    loadAverage: loadavg().map((load) => Number(load.toFixed(2))),
  };
}

function readCpuInfo() {
  try {
    const first = readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')[0] ?? '';
    return Object.fromEntries(first.split('\n').map((line) => line.split(/\s*:\s*/, 2)).filter((kv) => kv.length === 2));
  } catch {
    return {};
  }
}
