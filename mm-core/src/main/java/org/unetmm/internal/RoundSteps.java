package org.unetmm.internal;

/**
 * The send steps of an {@link Engine} progress round, which a round runs once more after its safe
 * point when a handler queued a send there. Engine lock held.
 */
final class RoundSteps {
    private RoundSteps() {
    }

    /**
     * The buffers each endpoint posted since the last round translated ahead, each endpoint's
     * queued sends to their protocols, then the timers and acknowledgements of {@code timed}.
     * Prefetch first, so a loopback message sent in this round finds its buffer translated.
     */
    static int sendAndTimers(ReceivePrefetch prefetch, SendLoop sends, EndpointState[] endpoints, ChannelState[] timed) {
        for (EndpointState ep : endpoints) {
            prefetch.posted(ep);
        }
        int work = 0;
        for (EndpointState ep : endpoints) {
            work += sends.processSends(ep);
        }
        if (timed.length > 0) {
            long now = EngineClock.tick();
            for (ChannelState channel : timed) {
                work += channel.protocol.progress(now);
            }
        }
        return work;
    }

    /** Whether an open endpoint of {@code endpoints} has a send queued. */
    static boolean sendsQueued(EndpointState[] endpoints) {
        for (EndpointState ep : endpoints) {
            if (!ep.closed && ep.sendQueue.peek() != null) {
                return true;
            }
        }
        return false;
    }
}
