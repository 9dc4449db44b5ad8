// The torch version rule: Debian's 1.13 (its version string reads 1.13.0a0) and every 2.x pass, older ones do not.
import { describe, expect, it } from 'vitest';
import { interpreterProblem, MIN_TORCH, torchVersionOk } from '../../model-runtime/src/python-interpreters';

const probe = (torchVersion: string | null, missing: Record<string, string> = {}) => ({
  pythonVersion: '3.11.2',
  torchVersion,
  torchError: torchVersion ? null : "ModuleNotFoundError: No module named 'torch'",
  cuda: { available: false, devices: [] },
  missing,
  executable: '/usr/bin/python3.11',
  prefix: '/usr',
  error: null,
});

describe('torch version', () => {
  it('accepts the minimum, its pre-releases and local builds, and every newer release', () => {
    expect(MIN_TORCH).toBe('1.13');
    for (const v of [
      '1.13.0a0',
      '1.13.0a0+gitunknown',
      '1.13.1',
      '1.14.0',
      '2.0.0',
      '2.3.1+cu121',
      '2.13.0+cpu',
      '10.0',
    ])
      expect(torchVersionOk(v), v).toBe(true);
  });

  it('refuses older releases, comparing numbers rather than strings', () => {
    for (const v of ['1.12.1', '1.9.0', '1.2.0', '0.4.1', '1.1.0+cu100']) expect(torchVersionOk(v), v).toBe(false);
  });

  it('says which interpreter has which torch, and the minimum', () => {
    expect(interpreterProblem('/opt/old/bin/python', probe('1.12.1'))).toBe(
      '`/opt/old/bin/python` has torch 1.12.1, older than 1.13, the minimum MoME Studio supports. ' +
        'Upgrade it (pip install --upgrade torch) or choose another interpreter.',
    );
    expect(interpreterProblem('/usr/bin/python3', probe('1.13.0a0'))).toBeNull();
  });

  it('names the other modules it lacks, and why onnx matters', () => {
    expect(interpreterProblem('/env/bin/python', probe('2.3.1', { onnx: 'x', PIL: 'y' }))).toBe(
      '`/env/bin/python` cannot import Pillow and onnx (onnx writes the graphs of converted and fine-tuned models): ' +
        'pip install pillow onnx.',
    );
    expect(interpreterProblem('/env/bin/python', probe(null, { numpy: 'x' }))).toBe(
      "`/env/bin/python` cannot import torch: ModuleNotFoundError: No module named 'torch'. Install PyTorch into it " +
        '(pip install torch) or choose another interpreter. It also cannot import numpy: pip install numpy.',
    );
  });
});
