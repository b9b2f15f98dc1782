package org.unetmm.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.ChannelConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.pinning.ProcessStatus;

/**
 * A dead peer fails outstanding calls, on loopback: the server's NIC is closed while calls are
 * outstanding (requests taken and answered but the answers not yet sent, others not yet
 * acknowledged or still waiting for the send window). Every outstanding call fails within the
 * configured detection time, the client closes its endpoint, and the pinned bytes return to the
 * baseline with the client's NIC still open.
 */
@Timeout(60)
class RpcPeerDeathTest {
    private static final ChannelConfig QUICK = ChannelConfig.builder().reliable(true)
            .initialRto(Duration.ofMillis(5)).minRto(Duration.ofMillis(1)).maxRto(Duration.ofMillis(20))
            .maxRetransmits(6).keepAlive(Duration.ofMillis(50)).ackDelay(Duration.ofNanos(100_000))
            .peerTimeout(RpcServerPeer.PEER_TIMEOUT).build();

    @Test
    void outstandingCallsFailWhenTheServerDiesAndPinsReturnToBaseline() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        Nic clientNic = Nic.open(NicConfig.builder().build());
        // the server's NIC is caller-driven: this test decides when it makes progress, and when it dies
        Nic serverNic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).build());
        RpcServer server = RpcServer.open(serverNic, RpcServerConfig.builder().channel(QUICK).build());
        server.register(1, (request, response) -> response.send(request.buffer(), request.offset(), request.length()));
        CompletableFuture<RpcClient> connecting = RpcClient.connectAsync(clientNic, server.address(),
                RpcClientConfig.builder().channel(QUICK).timeout(Duration.ofSeconds(30)).build());
        while (!connecting.isDone()) {
            serverNic.progress();
        }
        RpcClient client = connecting.get();
        ByteBuffer request = ByteBuffer.allocateDirect(32 * 1024);
        ByteBuffer response = ByteBuffer.allocateDirect(32 * 1024);
        for (int i = 0; i < 20; i++) { // healthy first
            CompletableFuture<Integer> call = client.call(1, request, 0, 1000, response, 0, 32 * 1024);
            while (!call.isDone()) {
                serverNic.progress();
            }
            assertThat(call.get()).isEqualTo(1000);
        }
        List<CompletableFuture<Integer>> outstanding = new ArrayList<>();
        List<ByteBuffer> requests = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ByteBuffer r = ByteBuffer.allocateDirect(32 * 1024);
            requests.add(r);
            outstanding.add(client.call(1, r, 0, 32 * 1024, ByteBuffer.allocateDirect(32 * 1024), 0, 32 * 1024));
        }
        // the server took (some of) the requests, but without its progress no reply or acknowledgement leaves
        assertThat(outstanding).noneMatch(CompletableFuture::isDone);
        long killed = System.nanoTime();
        serverNic.close();
        Duration bound = QUICK.worstCaseDeathDetection().plusSeconds(1);
        int failed = 0;
        for (CompletableFuture<Integer> call : outstanding) {
            try {
                call.get(bound.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                RpcException rpc = (RpcException) e.getCause();
                assertThat(rpc.status()).isEqualTo(RpcStatus.PEER_UNREACHABLE);
                failed++;
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - killed);
        assertThat(failed).as("every outstanding call fails").isEqualTo(outstanding.size());
        assertThat(took).as("failed within the configured detection time").isLessThan(bound);
        System.out.printf("%d of %d outstanding calls failed %d ms after the server died (bound %d ms)%n", failed,
                outstanding.size(), took.toMillis(), bound.toMillis());

        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!client.endpoint().isClosed() && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // the client's timer thread closes its endpoint after the failure
        }
        assertThat(client.endpoint().isClosed()).as("the client released its endpoint").isTrue();
        assertThat(client.call(1, request, response)).isCompletedExceptionally();
        assertThat(clientNic.stats().pins().inUseRegions()).as("no pin held for a dead call").isZero();
        clientNic.experiments().evictIdlePins();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline, client NIC still open").isEqualTo(baseline);
        client.close();
        clientNic.close();
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }
}
