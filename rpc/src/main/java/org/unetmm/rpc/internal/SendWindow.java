package org.unetmm.rpc.internal;

import org.unetmm.ChannelConfig;

/**
 * The reliable channel's send window as RPC needs it. A send the window holds back waits in the
 * send queue, unseen by the peer: a client whose window is smaller than its calls in flight has
 * only a window's worth outstanding (the channel's default of 32 against a client's 64 calls), and
 * a server whose window is smaller than the requests it holds answers them a window at a time.
 * So each end widens the window of the options it was given to cover what it may have
 * outstanding: the client its {@code maxInFlight} requests, the server one reply per request
 * buffer. A wider window costs a slot per message; the peer's receive window stays what it is.
 */
public final class SendWindow {
    /** The largest window a channel takes. */
    public static final int MAX = 4096;

    private SendWindow() {
    }

    /** {@code options} with a window of at least {@code messages} (at most {@link #MAX}). */
    public static ChannelConfig covering(ChannelConfig options, int messages) {
        int wanted = Math.min(messages, MAX);
        return options.window() >= wanted ? options : options.toBuilder().window(wanted).build();
    }
}
