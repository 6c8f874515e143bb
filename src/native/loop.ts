// This event loop's side of the addon: its binding (attach()) and the dispatch of its threads'
// events. The registry of the loop's live threads is the native one (native/loop.h): start() and
// adopt() enter a thread with its object, and the addon posts each of its events here, to the
// thread's symbol-keyed methods: kRun (run the target now, on this loop) and kEnded (its record
// has ended).
import type { BackgroundThread } from '../thread/background-thread';
import { EVENT_LEFT_BEHIND, EVENT_RUN, native, type LoopBinding } from './binding';
import { kEnded, kRun } from '../core/symbols';

let binding: LoopBinding | undefined;

/**
 * This loop's binding. The first call routes the loop's thread events here and registers the
 * loop's native teardown (which ends what is left when the loop's env goes away).
 */
export function attach(): LoopBinding {
  return (binding ??= native.init(dispatch));
}

let onLeftBehind: ((ident: number) => void) | null = null;

/** In an isolate: who hears of EVENT_LEFT_BEHIND (src/isolate/runner.ts). */
export function listenLeftBehind(listener: (ident: number) => void): void {
  onLeftBehind = listener;
}

function dispatch(kind: number, subject: object | number, nativeId: number): void {
  if (kind === EVENT_LEFT_BEHIND) {
    onLeftBehind?.(subject as number);
    return;
  }
  const thread = subject as BackgroundThread;
  if (kind === EVENT_RUN) thread[kRun](nativeId);
  else thread[kEnded](nativeId);  // still listed while it drains what it wrote and threw
}

/** How many threads this loop has started that have not ended. */
export function liveCount(): number {
  return binding === undefined ? 0 : binding.liveCount();
}

/** Those threads, in the order they were started. */
export function liveThreads(): BackgroundThread[] {
  return binding === undefined ? [] : binding.liveThreads() as BackgroundThread[];
}
