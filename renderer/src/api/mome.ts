// The one way the UI reaches the backend: window.mome (Electron preload or the browser-mode client).
import type { MomeApi } from '../../../electron/api/contract';
import { currentMediaTicket } from './bridge-client';

export const mome = (): MomeApi => (window as unknown as { mome: MomeApi }).mome;

/**
 * A relative media URL: answered by mome://app/media in Electron and /media in browser mode, where it carries
 * the page's media ticket (an <img> cannot send the Authorization header; see bridge-client.ts).
 */
export function mediaUrl(path: string, thumb?: number): string {
  const ticket = currentMediaTicket();
  return `media?path=${encodeURIComponent(path)}${thumb ? `&thumb=${thumb}` : ''}${ticket ? `&ticket=${ticket}` : ''}`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
