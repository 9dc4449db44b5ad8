// Execution-provider choice: 'auto' prefers CUDA where onnxruntime-node's CUDA provider library and an
// NVIDIA driver are both present (DirectML on Windows, CoreML on macOS), otherwise CPU, and always says why.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export type Device = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';

export interface ProviderChoice {
  /** Execution providers in ONNX Runtime's order of preference. */
  providers: string[];
  /** The provider that will run the graphs. */
  provider: 'cpu' | 'cuda' | 'dml' | 'coreml';
  /** Why this one, in words for the status bar and the model card. */
  reason: string;
}

const require = createRequire(import.meta.url);

/** The folder with onnxruntime-node's native libraries for this platform. */
export function ortBinaryDir(): string | null {
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const bin = path.join(pkg, 'bin');
    for (const napi of fs.existsSync(bin) ? fs.readdirSync(bin) : []) {
      const dir = path.join(bin, napi, process.platform, process.arch);
      if (fs.existsSync(dir)) return dir;
    }
  } catch {
    // not installed
  }
  return null;
}

export interface CudaStatus {
  available: boolean;
  reason: string;
}

export function cudaStatus(): CudaStatus {
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    return { available: false, reason: `CUDA is not supported by onnxruntime-node on ${process.platform}` };
  }
  const dir = ortBinaryDir();
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (!dir || !fs.existsSync(path.join(dir, lib))) {
    return {
      available: false,
      reason:
        "CUDA not available: onnxruntime-node's CUDA provider is not installed (it is downloaded at npm install; reinstall with internet access and without ONNXRUNTIME_NODE_INSTALL=skip)",
    };
  }
  const driver = process.platform === 'linux' ? fs.existsSync('/proc/driver/nvidia/version') : true;
  if (!driver)
    return {
      available: false,
      reason: 'CUDA not available: no NVIDIA driver is loaded (/proc/driver/nvidia/version is missing)',
    };
  return { available: true, reason: 'CUDA provider installed and an NVIDIA driver is loaded' };
}

export function chooseProviders(device: Device): ProviderChoice {
  if (device === 'cpu') return { providers: ['cpu'], provider: 'cpu', reason: 'CPU chosen explicitly' };
  if (device === 'cuda' || device === 'auto') {
    const cuda = cudaStatus();
    if (cuda.available) return { providers: ['cuda', 'cpu'], provider: 'cuda', reason: cuda.reason };
    if (device === 'cuda') throw new Error(cuda.reason);
    if (process.platform === 'win32')
      return { providers: ['dml', 'cpu'], provider: 'dml', reason: `${cuda.reason}; using DirectML` };
    if (process.platform === 'darwin')
      return { providers: ['coreml', 'cpu'], provider: 'coreml', reason: `${cuda.reason}; using CoreML` };
    return { providers: ['cpu'], provider: 'cpu', reason: cuda.reason };
  }
  if (device === 'dml' && process.platform !== 'win32') throw new Error('DirectML runs only on Windows.');
  if (device === 'coreml' && process.platform !== 'darwin') throw new Error('CoreML runs only on macOS.');
  return { providers: [device, 'cpu'], provider: device, reason: `${device} chosen explicitly` };
}
