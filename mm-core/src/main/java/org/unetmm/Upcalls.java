package org.unetmm;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.unetmm.internal.Counters;
import org.unetmm.internal.SafePoint;

/**
 * Completion upcalls waiting for the engine's next safe point. The engine never runs a handler in
 * the middle of its own work: a handler may send, post, close its channel, its endpoint or the
 * NIC, and none of that may land between two steps of a send loop or a reassembly. So each upcall
 * is queued here and delivered when the engine is about to release its outermost hold of its lock
 * — after a progress round, a close, a channel setup. Upcalls that a handler causes (closing an
 * endpoint completes its posted receives) join the same queue and are delivered by the same loop,
 * one after another, never nested.
 *
 * <p>Each upcall has a {@link Completion} of its own for the whole call; they are pooled, so the
 * steady state allocates nothing. A handler that throws is reported (never repeated) and the next
 * upcall goes on. Engine lock held for every method.
 */
final class Upcalls implements SafePoint {
    private final ArrayDeque<Completion> waiting = new ArrayDeque<>();
    private final ArrayDeque<Completion> spare = new ArrayDeque<>();
    private final ErrorHandler errorHandler;
    private boolean delivering;
    /** Faults reported: written under the engine lock, read by stats() anywhere. */
    private final Counters errors = new Counters(1);

    Upcalls(ErrorHandler errorHandler) {
        this.errorHandler = errorHandler;
    }

    void add(CompletionHandler handler, Completion.Kind kind, CompletionStatus status, long cookie, Channel channel,
             ByteBuffer buffer, int offset, int length, String detail) {
        Completion c = spare.poll();
        if (c == null) {
            c = new Completion();
        }
        c.set(kind, status, cookie, channel, buffer, offset, length, detail);
        c.target = handler;
        waiting.add(c);
    }

    @Override
    public boolean isEmpty() {
        return waiting.isEmpty();
    }

    @Override
    public void deliver() {
        if (delivering) {
            return;
        }
        delivering = true;
        try {
            Completion c;
            while ((c = waiting.poll()) != null) {
                try {
                    c.target.onCompletion(c);
                } catch (Throwable t) {
                    report(new CompletionHandlerException("completion handler " + c.target + " threw " + t + " on " + c
                            + ": that completion was delivered and is not repeated; the NIC goes on."
                            + " Catch exceptions in the handler", t));
                } finally {
                    c.clear();
                    spare.add(c);
                }
            }
        } finally {
            delivering = false;
        }
    }

    /** Reports a fault to the NIC's error handler; one that throws is counted and ignored. */
    @Override
    public void report(Throwable error) {
        errors.increment(0);
        try {
            errorHandler.onError(error);
        } catch (Throwable ignored) {
            // the error handler itself failed: the count above still says something went wrong
        }
    }

    /** Faults reported so far (handler exceptions and engine faults). */
    long errors() {
        return errors.get(0);
    }
}
