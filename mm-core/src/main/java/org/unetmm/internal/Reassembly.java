package org.unetmm.internal;

import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;

/**
 * The clock of unreliable multi-fragment messages: each must get its next fragment within the
 * reassembly timeout ({@code NicConfig.reassemblyTimeout()}), or it is dropped, counted
 * {@link DropReason#INCOMPLETE}, and its posted buffer completes {@link CompletionStatus#INCOMPLETE}
 * so the application gets it back. The timeout bounds the wait for the next fragment, not the
 * whole message: a 32 MiB message that keeps arriving (re-pinning every page under a small
 * RLIMIT_MEMLOCK) is slow, not lost. The sweep runs only while some message is being reassembled,
 * at most once a millisecond. Engine only; allocates nothing once its table has grown.
 */
public final class Reassembly {
    private static final long SWEEP_NANOS = 1_000_000L;
    private final long timeoutNanos;
    private UnreliableProtocol[] timed = new UnreliableProtocol[8];
    private int size;
    private long nextSweep;

    public Reassembly(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    public long timeoutNanos() {
        return timeoutNanos;
    }

    /** Starts (or restarts, on each fragment) {@code p}'s clock. */
    void arm(UnreliableProtocol p, long nowNanos) {
        p.deadline = nowNanos + timeoutNanos;
        if (p.timedIndex < 0) {
            if (size == timed.length) {
                timed = java.util.Arrays.copyOf(timed, size * 2);
            }
            p.timedIndex = size;
            timed[size++] = p;
        }
    }

    /** Stops {@code p}'s clock (its message completed, one way or another). */
    void disarm(UnreliableProtocol p) {
        int i = p.timedIndex;
        if (i < 0) {
            return;
        }
        UnreliableProtocol last = timed[--size];
        timed[i] = last;
        last.timedIndex = i;
        timed[size] = null;
        p.timedIndex = -1;
    }

    /** Expires the messages whose next fragment is overdue; returns how many. */
    public int expire() {
        if (size == 0) {
            return 0;
        }
        long now = System.nanoTime();
        if (now - nextSweep < 0) {
            return 0;
        }
        nextSweep = now + SWEEP_NANOS;
        int expired = 0;
        for (int i = size - 1; i >= 0; i--) {
            UnreliableProtocol p = timed[i];
            if (now - p.deadline > 0) {
                p.expire(timeoutNanos);
                expired++;
            }
        }
        return expired;
    }
}
