package org.unetmm.nic.udp;

import org.unetmm.spi.Transport;
import org.unetmm.spi.TransportFactory;

/** Serves {@code udp://host:port[?options]} URIs (registered with ServiceLoader); see {@link UdpConfig}. */
public final class UdpTransportFactory implements TransportFactory {
    @Override
    public String scheme() {
        return "udp";
    }

    @Override
    public Transport open(String uri) {
        return new UdpTransport(UdpConfig.parse(uri));
    }
}
