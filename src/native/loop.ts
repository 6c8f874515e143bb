// This event loop's side of the addon: its binding (attach()), the registry of its live threads,
// and the dispatch of their events. A thread is registered as start() creates it; the addon then
// posts its events here, and each is handed to the thread through a symbol-keyed method: kRun
// (run the target now, on this loop) and kEnded (the OS thread has ended).
import type { BackgroundThread } from '../thread/background-thread';
import { EVENT_LEFT_BEHIND, EVENT_RUN, native, type LoopBinding } from './binding';
import { kEnded, kRun } from '../core/symbols';

let binding: LoopBinding | undefined;
/** Started and not yet ended threads of this loop, by ident. */
const live = new Map<number, BackgroundThread>();

/**
 * This loop's binding. The first call routes the loop's thread events to the registry and
 * registers the loop's native teardown (which ends what is left when the loop's env goes away).
 */
export function attach(): LoopBinding {
  return (binding ??= native.init(dispatch));
}

let onLeftBehind: ((ident: number) => void) | null = null;

/** In an isolate: who hears of EVENT_LEFT_BEHIND (src/isolate/runner.ts). */
export function listenLeftBehind(listener: (ident: number) => void): void {
  onLeftBehind = listener;
}

function dispatch(kind: number, ident: number, nativeId: number): void {
  if (kind === EVENT_LEFT_BEHIND) {
    onLeftBehind?.(ident);
    return;
  }
  const thread = live.get(ident);
  if (thread === undefined) return;
  if (kind === EVENT_RUN) {
    thread[kRun](nativeId);
    return;
  }
  try {
    thread[kEnded](nativeId);  // still listed while it drains what it wrote and threw
  } finally {
    live.delete(ident);
  }
}

/** A thread start() created: its events come to it from now on. */
export function register(ident: number, thread: BackgroundThread): void {
  live.set(ident, thread);
}

export function liveCount(): number {
  return live.size;
}

export function liveThreads(): BackgroundThread[] {
  return [...live.values()];
}
