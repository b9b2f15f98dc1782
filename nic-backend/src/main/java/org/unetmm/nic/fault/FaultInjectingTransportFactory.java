package org.unetmm.nic.fault;

import org.unetmm.spi.Transport;
import org.unetmm.spi.TransportFactory;

/**
 * Serves {@code faulty:<inner uri>#<faults>} (e.g. {@code faulty:loopback:a#drop=0.05,seed=7} or
 * {@code faulty:udp://198.18.0.1:7000#corrupt=0.01}): the inner wire wrapped in a
 * {@link FaultInjectingTransport}. A test tool: it is deliberately not registered in this module's
 * {@code META-INF/services}; a test suite that wants it lists this class in its own
 * {@code src/test/resources/META-INF/services/org.unetmm.spi.TransportFactory}.
 */
public final class FaultInjectingTransportFactory implements TransportFactory {
    /** The URI scheme served. */
    public static final String SCHEME = "faulty";

    @Override
    public String scheme() {
        return SCHEME;
    }

    @Override
    public Transport open(String uri) {
        if (!uri.startsWith(SCHEME + ":")) {
            throw new IllegalArgumentException("not a faulty: URI: '" + uri + "'");
        }
        String rest = uri.substring(SCHEME.length() + 1);
        int hash = rest.lastIndexOf('#');
        String inner = hash < 0 ? rest : rest.substring(0, hash);
        FaultConfig faults = FaultConfig.parse(hash < 0 ? "" : rest.substring(hash + 1));
        if (inner.isEmpty() || !inner.contains(":")) {
            throw new IllegalArgumentException("faulty: needs the wire it wraps, e.g. faulty:loopback:a#drop=0.05, got '"
                    + uri + "'");
        }
        return new FaultInjectingTransport(FaultInjectingTransport.openInner(inner), faults);
    }
}
