// The one way the UI reaches the backend: window.mome (Electron preload or the browser-mode client).
import type { MomeApi } from '../../../electron/api/contract';

export const mome = (): MomeApi => (window as unknown as { mome: MomeApi }).mome;

/** A relative media URL: answered by mome://app/media in Electron and /media in browser mode. */
export function mediaUrl(path: string, thumb?: number): string {
  return `media?path=${encodeURIComponent(path)}${thumb ? `&thumb=${thumb}` : ''}`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
