package org.unetmm.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.nic.udp.UdpTransport;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.TlbStats;

/**
 * What one call costs the server, counted rather than timed, over the udp wire on loopback with
 * both NICs driven by the test (CALLER progress): the progress rounds its reply waits, and the TLB
 * traps its request buffer's repost takes.
 */
@Timeout(60)
class RpcServerRoundTest {
    private static final int ECHO = 1;
    private static final long PHASE_NANOS = 2_000_000_000L;

    private static Nic udpNic(NicConfig.Builder builder) {
        return Nic.open(builder.transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER).build());
    }

    private static RpcClient connect(Nic clientNic, Nic serverNic, RpcServer server, int inFlight) throws Exception {
        CompletableFuture<RpcClient> connecting = RpcClient.connectAsync(clientNic, server.address(),
                RpcClientConfig.builder().maxInFlight(inFlight).build());
        long deadline = System.nanoTime() + PHASE_NANOS;
        while (!connecting.isDone() && System.nanoTime() - deadline < 0) {
            clientNic.progress();
            serverNic.progress();
        }
        return connecting.get();
    }

    @Test
    void aReplyQueuedByTheHandlerLeavesInTheProgressRoundItsRequestArrivedIn() throws Exception {
        try (Nic serverNic = udpNic(NicConfig.builder()); Nic clientNic = udpNic(NicConfig.builder())) {
            RpcServer server = RpcServer.open(serverNic, RpcServerConfig.builder().requestBuffers(8).build());
            int[] handled = {0};
            server.register(ECHO, (request, response) -> {
                handled[0]++;
                response.send(request.buffer(), request.offset(), request.length());
            });
            RpcClient client = connect(clientNic, serverNic, server, 4);
            UdpTransport serverWire = UdpTransport.of(serverNic);
            for (int call = 0; call < 5; call++) {
                ByteBuffer request = ByteBuffer.allocateDirect(8).putLong(0, call);
                ByteBuffer response = ByteBuffer.allocateDirect(8);
                CompletableFuture<Integer> answer = client.call(ECHO, request, 0, 8, response, 0, 8);
                clientNic.progress(); // the request leaves in this round (the wire's sendmmsg ends it)
                int before = handled[0];
                long receiveCallsBefore = 0;
                long deadline = System.nanoTime() + PHASE_NANOS;
                while (handled[0] == before && System.nanoTime() - deadline < 0) {
                    receiveCallsBefore = serverWire.stats().receiveCalls();
                    serverNic.progress(); // one round at a time, until the round whose arrivals ran the handler
                }
                assertThat(handled[0]).as("the server handled call %d", call).isEqualTo(before + 1);
                // that round: the request's recvmmsg, then the reply's sendmmsg, and no second receive on
                // the socket it had just drained
                assertThat(serverWire.stats().receiveCalls() - receiveCallsBefore)
                        .as("receive calls in the round that ran call %d's handler", call).isEqualTo(1);
                // the server gets no further round: its reply must have left in the one that ran the handler
                deadline = System.nanoTime() + PHASE_NANOS;
                while (!answer.isDone() && System.nanoTime() - deadline < 0) {
                    clientNic.progress();
                }
                assertThat(answer).as("call %d answered without another server round", call).isDone();
                assertThat(answer.join()).isEqualTo(8);
                assertThat(response.getLong(0)).isEqualTo(call);
            }
            closeBoth(client, server, serverNic);
        }
    }

    /**
     * 32 request buffers of 64 KiB + a header (17 pages each, 544 pages) against a TLB of 256
     * entries; and 64 of them (1,088 pages) against the default 1,024, where translating each
     * posted buffer's whole share of the TLB (8 pages) overfilled 16 of its 4-way sets and every
     * call trapped on the pages cycling through them.
     */
    @ParameterizedTest(name = "{0} request buffers, TLB of {1} sets x 4")
    @CsvSource({"32, 64", "64, 256"})
    void repostingARequestBufferDoesNotTrapOncePerPageWhenThePostedBytesExceedTheTlb(int buffers, int sets)
            throws Exception {
        NicConfig.Builder small = NicConfig.builder().tlb(sets, 4, ReplacementPolicy.LRU);
        try (Nic serverNic = udpNic(small); Nic clientNic = udpNic(NicConfig.builder())) {
            RpcServer server = RpcServer.open(serverNic, RpcServerConfig.builder().requestBuffers(buffers)
                    .maxRequest(64 << 10).build());
            server.register(ECHO, (request, response) -> response.send(request.buffer(), request.offset(), request.length()));
            RpcClient client = connect(clientNic, serverNic, server, 4);
            ByteBuffer request = ByteBuffer.allocateDirect(64);
            ByteBuffer response = ByteBuffer.allocateDirect(64);
            call(client, clientNic, serverNic, request, response, 2 * buffers); // every request buffer used and reposted
            TlbStats before = serverNic.stats().tlb();
            int calls = 4 * buffers;
            call(client, clientNic, serverNic, request, response, calls);
            TlbStats after = serverNic.stats().tlb();
            long traps = after.misses() + after.prefetches() - before.misses() - before.prefetches();
            assertThat((double) traps / calls).as("server TLB traps per call (misses %d, prefetches %d) over %d calls",
                    after.misses() - before.misses(), after.prefetches() - before.prefetches(), calls).isLessThan(1.0);
            closeBoth(client, server, serverNic);
        }
    }

    private static void call(RpcClient client, Nic clientNic, Nic serverNic, ByteBuffer request, ByteBuffer response,
                             int calls) {
        for (int i = 0; i < calls; i++) {
            CompletableFuture<Integer> answer = client.call(ECHO, request, 0, 64, response, 0, 64);
            long deadline = System.nanoTime() + PHASE_NANOS;
            while (!answer.isDone() && System.nanoTime() - deadline < 0) {
                clientNic.progress();
                serverNic.progress();
            }
            assertThat(answer.join()).isEqualTo(64);
        }
    }

    private static void closeBoth(RpcClient client, RpcServer server, Nic serverNic) {
        CompletableFuture<Void> closing = CompletableFuture.runAsync(client::close);
        long deadline = System.nanoTime() + PHASE_NANOS;
        while (!closing.isDone() && System.nanoTime() - deadline < 0) {
            serverNic.progress();
        }
        closing.join();
        server.close();
    }
}
