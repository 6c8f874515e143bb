// Hooks on the process's own events that take none of the application's listener budget. A
// listener would count against process.getMaxListeners() (ten by default): a module that adds one
// 'exit' listener per thread on a warm isolate saw MaxListenersExceededWarning one thread early
// for each listener of ours. Node emits every process event through process.emit ('exit' and
// 'beforeExit' too, from C++), so one wrapper of it sees them all, as signal-exit's does. A hook
// runs after the application's listeners (for 'exit': once all of them have run), also when one
// of them threw. A library that wraps process.emit after us (signal-exit) calls through to us.

type Hook = () => void;
const hooks = new Map<string | symbol, Hook[]>();

/** Runs `hook` each time the process emits `event`, after its listeners. `hook` must not throw. */
export function afterProcessEvent(event: 'exit' | 'beforeExit', hook: Hook): void {
  if (hooks.size === 0) {
    const emit = process.emit;
    process.emit = function emitThenHooks(this: NodeJS.Process, name: string | symbol,
      ...args: unknown[]): boolean {
      try {
        return Reflect.apply(emit, this, [name, ...args]) as boolean;
      } finally {
        const after = hooks.get(name);
        if (after !== undefined) for (const run of after) run();
      }
    } as typeof process.emit;
  }
  const list = hooks.get(event);
  if (list === undefined) hooks.set(event, [hook]);
  else list.push(hook);
}
