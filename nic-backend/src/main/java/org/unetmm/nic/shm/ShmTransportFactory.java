package org.unetmm.nic.shm;

import org.unetmm.spi.Transport;
import org.unetmm.spi.TransportFactory;

/** Serves {@code shm:name[?options]} URIs (registered with ServiceLoader); see {@link ShmConfig}. */
public final class ShmTransportFactory implements TransportFactory {
    @Override
    public String scheme() {
        return "shm";
    }

    @Override
    public Transport open(String uri) {
        return new ShmTransport(ShmConfig.parse(uri));
    }
}
