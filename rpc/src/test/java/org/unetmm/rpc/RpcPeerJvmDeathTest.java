package org.unetmm.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.ChannelAddress;
import org.unetmm.ChannelConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.pinning.ProcessStatus;

/**
 * A dead peer fails outstanding calls, on UDP: the RPC server runs in a second JVM, which is killed (SIGKILL) while
 * calls queue behind a slow handler. Every call not answered before the kill fails with
 * PEER_UNREACHABLE within the configured detection time; the client releases its endpoint and
 * the process's pinned bytes return to the baseline.
 */
@Timeout(90)
class RpcPeerJvmDeathTest {
    private static final long MAX_RTO_MS = 20;
    private static final int RETRANSMITS = 6;
    private static final long KEEP_ALIVE_MS = 50;

    @Test
    void callsOutstandingWhenTheServerJvmIsKilledFailWithinTheDetectionTime() throws Exception {
        ChannelConfig options = RpcServerPeer.options(MAX_RTO_MS, RETRANSMITS, KEEP_ALIVE_MS);
        long baseline = ProcessStatus.vmLckBytes();
        Process peer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), RpcServerPeer.class.getName(), "udp://127.0.0.1:0",
                String.valueOf(MAX_RTO_MS), String.valueOf(RETRANSMITS), String.valueOf(KEEP_ALIVE_MS))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as("the peer JVM reports READY").startsWith("READY ");
            ChannelAddress server = ChannelAddress.parse(line.substring("READY ".length()).trim());
            Nic nic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").build());
            RpcClient client = RpcClient.connect(nic, server, RpcClientConfig.builder().channel(options)
                    .timeout(Duration.ofSeconds(30)).build());
            ByteBuffer request = ByteBuffer.allocateDirect(4096);
            ByteBuffer response = ByteBuffer.allocateDirect(4096);
            assertThat(client.call(1, request, response).get(10, TimeUnit.SECONDS)).isEqualTo(4096);

            List<CompletableFuture<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 40; i++) { // 80 ms of work behind the slow handler
                calls.add(client.call(2, ByteBuffer.allocateDirect(8192), ByteBuffer.allocateDirect(8192)));
            }
            calls.get(0).get(10, TimeUnit.SECONDS); // the server is busy with them now
            peer.destroyForcibly();
            long killed = System.nanoTime();
            peer.waitFor(10, TimeUnit.SECONDS);
            Duration bound = options.worstCaseDeathDetection().plusSeconds(1);
            int answered = 0;
            int failed = 0;
            for (CompletableFuture<Integer> call : calls) {
                try {
                    call.get(bound.toMillis(), TimeUnit.MILLISECONDS);
                    answered++;
                } catch (ExecutionException e) {
                    assertThat(((RpcException) e.getCause()).status()).isEqualTo(RpcStatus.PEER_UNREACHABLE);
                    failed++;
                }
            }
            Duration took = Duration.ofNanos(System.nanoTime() - killed);
            System.out.printf("server JVM killed: %d calls answered before, %d failed %d ms after (bound %d ms)%n",
                    answered, failed, took.toMillis(), bound.toMillis());
            assertThat(failed).as("calls outstanding at the kill").isPositive();
            assertThat(answered + failed).isEqualTo(calls.size());
            assertThat(took).isLessThan(bound);

            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!client.endpoint().isClosed() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(client.endpoint().isClosed()).as("the client released its endpoint").isTrue();
            assertThat(nic.stats().pins().inUseRegions()).as("no pin held for a dead call").isZero();
            nic.experiments().evictIdlePins();
            assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline, NIC still open").isEqualTo(baseline);
            client.close();
            nic.close();
        } finally {
            peer.destroyForcibly();
            peer.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
