// A module target's thread: it runs in an isolate, a worker_threads Worker whose OS thread Node
// creates; the addon gives it the same record as its own threads, so that join, joinSync,
// keep-alive and teardown are the same code. The creator's env adopts the record; the isolate's
// env binds to it when it starts the run, and finishes it when the export has settled (a warm
// isolate then waits for its next run) or, whatever else ends the run (process.exit(),
// terminate(), an uncaught error, out of memory), when the isolate's env tears down.
#pragma once

#include <cstdint>
#include <memory>

#include "record.h"

namespace bgthread {

// Makes the record findable from the isolate's env (another env, same process). It starts in
// kRunning with nothing for the creator to join (the OS thread is Node's).
void Adopt(const std::shared_ptr<ThreadRecord>& record);

// The adopted record of `ident`, or null when it has finished (or never was).
std::shared_ptr<ThreadRecord> FindAdopted(uint64_t ident);

// On the isolate's thread: names the OS thread after the record and reports its kernel id.
int64_t BindAdopted(ThreadRecord& record);

// On the isolate's thread, at its process 'exit' event: its JavaScript has run to the end, and
// everything it wrote or threw has been posted to the creator. Its env's end is then the
// thread's end (AdoptedBodyGone finishes it).
void AdoptedExited(ThreadRecord& record);

// The isolate's env is going away under the run. After a clean exit that ends the thread
// (FinishAdopted). Otherwise (out of memory, terminated) only the creator's loop learns why, from
// the isolate's 'exit' event, which then finishes the thread: joinSync waiters are woken to say so.
void AdoptedBodyGone(const std::shared_ptr<ThreadRecord>& record);

// The body has ended: kFinished, joinSync waiters woken, kEnded posted to the creator's loop.
// Idempotent; forgets the record. Any thread.
void FinishAdopted(const std::shared_ptr<ThreadRecord>& record);

// No isolate could take the run: forgets the record without a kEnded (it never ran).
void DropAdopted(const std::shared_ptr<ThreadRecord>& record);

// The creator's env is going away: nobody can join the thread any more, so the adopted records let
// go of the record (an isolate that binds later finds nothing; one that is bound keeps its
// reference).
void ForgetAdopted(uint64_t ident);

}  // namespace bgthread
