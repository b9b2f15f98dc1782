package org.unetmm.spi;

/**
 * Opens transports for one URI scheme; found with {@link java.util.ServiceLoader}, so a wire is
 * chosen by URI ({@code loopback:}, {@code udp://host:port}, {@code shm:name}) without mm-core
 * depending on nic-backend.
 */
public interface TransportFactory {
    /** {@return the scheme this factory serves, without the colon (e.g. {@code loopback})} */
    String scheme();

    /**
     * Opens the wire a URI of this scheme names.
     *
     * @param uri the whole URI, scheme included
     * @return the transport, not yet started; the NIC owns it and closes it
     * @throws IllegalArgumentException naming what in {@code uri} is malformed
     * @throws org.unetmm.TransportException if the wire cannot be opened
     */
    Transport open(String uri);
}
