package org.unetmm.nic.engine;

import org.unetmm.Channel;
import org.unetmm.Endpoint;

/** Connects two endpoints with a channel each way round: {@code [a→b, b→a]}. */
final class Pairs {
    private Pairs() {
    }

    static Channel[] connect(Endpoint a, Endpoint b) {
        Channel ab = a.openChannel();
        Channel ba = b.openChannel();
        ab.connect(ba.address());
        ba.connect(ab.address());
        return new Channel[] {ab, ba};
    }
}
