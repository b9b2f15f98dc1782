package org.unetmm.internal;

import java.util.ServiceLoader;
import org.unetmm.spi.Transport;
import org.unetmm.spi.TransportFactory;

/** Finds the wire a transport URI names, by its scheme, among the {@link TransportFactory}s on the class path. */
final class Wires {
    private Wires() {
    }

    static Transport open(String uri) {
        String scheme = uri.substring(0, uri.indexOf(':'));
        StringBuilder known = new StringBuilder();
        for (TransportFactory factory : ServiceLoader.load(TransportFactory.class)) {
            if (factory.scheme().equals(scheme)) {
                return factory.open(uri);
            }
            known.append(known.length() == 0 ? "" : ", ").append(factory.scheme()).append(':');
        }
        throw new IllegalArgumentException("no transport for '" + uri + "': known schemes are ["
                + known + "]; put unetmm-nic-backend on the class path for loopback: and udp://");
    }
}
