package org.unetmm.bench;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import org.unetmm.nic.udp.UdpAddress;
import org.unetmm.nic.udp.UdpConfig;

/**
 * The udp wire as the experiments use it: both ends in this process, so the host of
 * {@code --transport udp://host:port[?options]} must be an address of this machine. The first NIC
 * binds the URI as given; the second binds the same host and options on an ephemeral port, so
 * with port 0 (recommended) both NICs use the same URI and with a fixed port they do not collide.
 */
final class UdpWire {
    private UdpWire() {
    }

    static boolean isUdp(String transport) {
        return transport.startsWith(UdpAddress.SCHEME);
    }

    /**
     * Checks a udp transport URI for an experiment run inside this process; returns null when it is
     * usable, else what is wrong and how to fix it.
     */
    static String problem(String transport) {
        UdpConfig config;
        try {
            config = UdpConfig.parse(transport);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        UdpAddress bind = config.bind();
        if (bind.isWildcard()) {
            return "'" + transport + "' binds the wildcard address; both NICs run in this process and talk to each"
                    + " other, so bind a local address: udp://127.0.0.1:" + bind.port();
        }
        InetAddress address = bind.inetAddress();
        try {
            if (!address.isLoopbackAddress() && NetworkInterface.getByInetAddress(address) == null) {
                return "'" + transport + "': " + bind.host() + " is not an address of this host; both NICs run in"
                        + " this process, so use a local address, e.g. udp://127.0.0.1:0";
            }
        } catch (SocketException e) {
            return "'" + transport + "': cannot list this host's interfaces (" + e.getMessage()
                    + "); use udp://127.0.0.1:0";
        }
        return null;
    }

    /** The URI of the second NIC: the same host and options, port 0. */
    static String secondNic(String transport) {
        if (!isUdp(transport)) {
            return transport;
        }
        UdpConfig config = UdpConfig.parse(transport);
        return config.bind().port() == 0 ? transport : config.toBuilder().bind(config.bind().withPort(0)).build().toUri();
    }

    /** The bound host (an IPv4 literal), for the peers that open their own sockets. */
    static String host(String transport) {
        return UdpConfig.parse(transport).bind().host();
    }
}
