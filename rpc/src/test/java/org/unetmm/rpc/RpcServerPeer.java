package org.unetmm.rpc;

import java.time.Duration;
import org.unetmm.ChannelConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;

/**
 * An RPC server in a JVM of its own, for the peer-death tests:
 * {@code RpcServerPeer <bind uri> <maxRto ms> <maxRetransmits> <keepAlive ms>} serves method 1
 * (echo) and method 2 (echo after busy-waiting 2 ms, so calls queue up behind it), prints
 * {@code READY <listening address>}, and runs until its standard input closes or it is killed.
 */
public final class RpcServerPeer {
    static final Duration PEER_TIMEOUT = Duration.ofMillis(1000);

    private RpcServerPeer() {
    }

    /** Quick timers; a peer silent for {@link #PEER_TIMEOUT} is given up (the liveness rule, not retry counts). */
    static ChannelConfig options(long maxRtoMillis, int maxRetransmits, long keepAliveMillis) {
        return ChannelConfig.builder().peerTimeout(PEER_TIMEOUT).reliable(true).initialRto(Duration.ofMillis(Math.min(5, maxRtoMillis)))
                .minRto(Duration.ofMillis(1)).maxRto(Duration.ofMillis(maxRtoMillis)).maxRetransmits(maxRetransmits)
                .keepAlive(Duration.ofMillis(keepAliveMillis)).ackDelay(Duration.ofNanos(100_000)).build();
    }

    public static void main(String[] args) throws Exception {
        ChannelConfig options = options(Long.parseLong(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3]));
        try (Nic nic = Nic.open(NicConfig.builder().transport(args[0]).build())) {
            RpcServer server = RpcServer.open(nic, RpcServerConfig.builder().channel(options).build());
            server.register(1, (request, response) -> response.send(request.buffer(), request.offset(), request.length()));
            server.register(2, (request, response) -> {
                long until = System.nanoTime() + 2_000_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                response.send(request.buffer(), request.offset(), request.length());
            });
            System.out.println("READY " + server.address());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until the test is gone
            }
        }
        System.exit(0);
    }
}
