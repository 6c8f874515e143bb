// Loads the native addon (build/Release or prebuilds/<platform>-<arch>) and types its surface.
// Nothing here touches the event loop: src/native/loop.ts attaches the loop, on first use.
import * as path from 'node:path';
import { PACKAGE_DIR, bundledError, runnerExists } from '../core/own-files';

/** What native/loop.cc exports. */
export interface NativeAddon {
  /**
   * Routes every thread's events to `onEvent(kind, thread, nativeId)` on this loop (for
   * EVENT_LEFT_BEHIND: `onEvent(kind, ident, 0)`), registers the loop's teardown hook, and returns
   * the loop's binding. Once per loop (a second call throws).
   */
  init(onEvent: (kind: number, subject: object | number, nativeId: number) => void): LoopBinding;
  readonly minStackSize: number;
  readonly maxStackSize: number;
  readonly maxThreadNameBytes: number;
}

/**
 * What init() returns. Every call must be made on the loop that called init(). The loop's registry
 * of live threads is native: start() and adopt() enter a thread (its record and its object), its
 * end removes it.
 */
export interface LoopBinding {
  /**
   * Creates the OS thread of `thread`, waiting for it to run when it is the loop's only one
   * (nativeId 0: it has not run yet). Throws an Error with the libuv `code`.
   */
  start(name: string, stackSize: number, daemon: boolean,
    thread: object): [ident: number, nativeId: number];
  /** The target has settled: the OS thread may end. */
  settled(ident: number): void;
  /** Resolves true once the OS thread has ended, false after `seconds` (negative: never). */
  join(ident: number, seconds: number, keepAlive: boolean): Promise<boolean>;
  /** 1: ended, 0: timed out, -1: the thread's end needs this loop (waiting would deadlock). */
  joinSync(ident: number, seconds: number): -1 | 0 | 1;
  /** A fresh ident and the kernel thread id of the calling thread. */
  identifyCurrentThread(): [ident: number, nativeId: number];
  /**
   * Registers a module target's thread, whose run the caller hands to an isolate (or a remote
   * job) next; returns its ident.
   */
  adopt(name: string, daemon: boolean, thread: object): number;
  /** No isolate could take the run: forget the thread. */
  dropAdopted(ident: number): void;
  /** In the isolate: this OS thread now runs `ident` (named after it; this env's end ends it). */
  bindAdopted(ident: number): number;
  /**
   * In the isolate, at its process 'exit': its JavaScript ran to the end; its env's end ends the
   * run.
   */
  adoptedExited(ident: number): void;
  /**
   * The run has ended (idempotent): the isolate, when its thread ends there; the creator, at the
   * isolate's 'exit'.
   */
  finishAdopted(ident: number): void;
  /**
   * In an isolate, once: a handle of the addon holds its loop open from now on (the runner unrefs
   * its port).
   */
  holdIsolateOpen(): void;
  /**
   * In an isolate: finishes the run at the loop's next prepare phase, after this turn's
   * microtasks, rejections, immediates and close callbacks, if the thread left nothing behind by
   * then (no thread of this loop alive, nothing but holdIsolateOpen's handle keeping the loop
   * alive); else EVENT_LEFT_BEHIND(ident) comes instead.
   */
  finishAtTurnEnd(ident: number): void;
  /**
   * The kernel id of a live thread's OS thread (waiting for a new one to run); null until an
   * isolate has bound it.
   */
  nativeId(ident: number): number | null;
  /** How many threads of this loop are started and not ended. */
  liveCount(): number;
  /** Those threads, in the order they were started; one still delivering its end included. */
  liveThreads(): object[];
  /** While on, this loop's poll never blocks, yet nothing is held open (an unref'd idle handle). */
  pollWithoutBlocking(on: boolean): void;
}

/** Event kinds sent to init's onEvent (native/record.h EventKind). */
export const EVENT_RUN = 0;
export const EVENT_ENDED = 1;
export const EVENT_LEFT_BEHIND = 2;

// BACKGROUND_THREAD_ADDON names another build of the addon to load (the sanitizer builds of
// scripts/sanitize.sh); otherwise node-gyp-build picks build/Release or the prebuild.
const override = process.env.BACKGROUND_THREAD_ADDON;
const load = require('node-gyp-build') as (dir: string) => unknown;

function loadAddon(): unknown {
  if (override) return require(path.resolve(override));
  try {
    return load(PACKAGE_DIR);
  } catch (error) {
    // No addon, and this code is not in the package's dist/ either: it was bundled. Otherwise
    // node-gyp-build's own error (no build for this platform or libc) says what is wrong.
    if (!runnerExists()) throw bundledError(`its native addon (node-gyp-build looked in ${PACKAGE_DIR})`, error);
    throw error;
  }
}

export const native = loadAddon() as NativeAddon;
