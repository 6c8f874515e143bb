// A thread whose body is a worker_threads Worker (a module target): Node creates and runs that
// OS thread; the addon gives it the same record as its own threads, so that join,
// joinSync, keep-alive and teardown are the same code. The creator's env adopts the record;
// the Worker's env binds to it when it starts and finishes it when it tears down, whatever ends
// it (the target settled, process.exit(), terminate(), an uncaught error).
#pragma once

#include <cstdint>
#include <memory>

#include "thread.h"

namespace bgthread {

// Makes the record findable from the Worker's env (another env, same process). It starts in
// kRunning with nothing for the creator to join (the OS thread is Node's).
void AdoptIsolated(const std::shared_ptr<ThreadRecord>& record);

// The adopted record of `ident`, or null when it has finished (or never was).
std::shared_ptr<ThreadRecord> FindIsolated(uint64_t ident);

// On the Worker's thread: names the OS thread after the record and reports its kernel id.
int64_t BindIsolated(ThreadRecord& record);

// On the Worker's thread, at its process 'exit' event: its JavaScript has run to the end, and
// everything it wrote or threw has been posted to the creator. Its env's end is then the
// thread's end (BodyGone finishes it).
void ExitedCleanly(ThreadRecord& record);

// The Worker's env is going away. After a clean exit that ends the thread (FinishIsolated).
// Otherwise (out of memory, terminated) only the creator's loop learns why, from the Worker's
// 'exit' event, which then finishes the thread: joinSync waiters are woken to say so.
void BodyGone(const std::shared_ptr<ThreadRecord>& record);

// The body has ended: kFinished, joinSync waiters woken, kEnded posted to the creator's loop.
// Idempotent; forgets the record. Any thread.
void FinishIsolated(const std::shared_ptr<ThreadRecord>& record);

// The Worker could not be created: forgets the record without a kEnded (it never ran).
void DropIsolated(const std::shared_ptr<ThreadRecord>& record);

// The creator's env is going away: nobody can join the thread any more, so the registry lets go
// of the record (a Worker that binds later finds nothing; one that is bound keeps its reference).
void ForgetIsolated(uint64_t ident);

}  // namespace bgthread
