package org.unetmm.nic.loopback;

import org.unetmm.spi.Transport;
import org.unetmm.spi.TransportFactory;

/** Serves {@code loopback:} URIs (registered with ServiceLoader). */
public final class LoopbackTransportFactory implements TransportFactory {
    @Override
    public String scheme() {
        return "loopback";
    }

    @Override
    public Transport open(String uri) {
        return new LoopbackTransport(uri);
    }
}
