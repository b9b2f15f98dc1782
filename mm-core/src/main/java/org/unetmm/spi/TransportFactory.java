package org.unetmm.spi;

/**
 * Opens transports for one URI scheme; found with {@link java.util.ServiceLoader}, so a wire is
 * chosen by URI ({@code loopback:}, {@code udp://host:port}, {@code shm:name}) without mm-core
 * depending on nic-backend.
 */
public interface TransportFactory {
    /** The scheme this factory serves, without the colon (e.g. {@code loopback}). */
    String scheme();

    Transport open(String uri);
}
