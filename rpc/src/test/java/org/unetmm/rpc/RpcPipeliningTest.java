package org.unetmm.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.pinning.ProcessStatus;

/**
 * K calls in flight are K calls outstanding at once, not a few at a time: the client issues
 * {@code maxInFlight} calls (more than the reliable channel's default window of 32) and the server
 * is shown all of them before the client hears a single reply; then the server answers every one
 * before it hears a single acknowledgement. Caller-driven progress, so each side moves only when
 * the test drives it.
 */
@Timeout(60)
class RpcPipeliningTest {
    private static final int ECHO = 1;
    private static final int CALLS = 64;
    private static final long PHASE_NANOS = 2_000_000_000L;

    @Test
    void serverSeesEveryCallInFlightBeforeItRepliesToAnyAndAnswersAllBeforeAnyAcknowledgement() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        try (Nic serverNic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).build());
             Nic clientNic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).build())) {
            RpcServer server = RpcServer.open(serverNic, RpcServerConfig.builder().requestBuffers(2 * CALLS).build());
            int[] handled = {0};
            server.register(ECHO, (request, response) -> {
                handled[0]++;
                response.send(request.buffer(), request.offset(), request.length());
            });
            CompletableFuture<RpcClient> connecting = RpcClient.connectAsync(clientNic, server.address(),
                    RpcClientConfig.builder().maxInFlight(CALLS).build());
            long deadline = System.nanoTime() + PHASE_NANOS;
            while (!connecting.isDone() && System.nanoTime() - deadline < 0) {
                clientNic.progress();
                serverNic.progress();
            }
            RpcClient client = connecting.get();
            @SuppressWarnings("unchecked")
            CompletableFuture<Integer>[] calls = new CompletableFuture[CALLS];
            for (int i = 0; i < CALLS; i++) {
                ByteBuffer request = ByteBuffer.allocateDirect(8).putLong(0, i);
                calls[i] = client.call(ECHO, request, 0, 8, ByteBuffer.allocateDirect(8), 0, 8);
            }
            for (int round = 0; round < 100; round++) {
                clientNic.progress(); // every request the client's window lets out leaves now
            }
            deadline = System.nanoTime() + PHASE_NANOS;
            while (handled[0] < CALLS && System.nanoTime() - deadline < 0) {
                serverNic.progress(); // the client hears nothing meanwhile: no reply, no acknowledgement of one
            }
            assertThat(handled[0]).as("requests the server held before the client heard any reply").isEqualTo(CALLS);
            for (int round = 0; round < 100; round++) {
                serverNic.progress(); // every reply the server's window lets out leaves now
            }
            deadline = System.nanoTime() + PHASE_NANOS;
            int answered = 0;
            while (answered < CALLS && System.nanoTime() - deadline < 0) {
                clientNic.progress(); // the server hears nothing meanwhile: no acknowledgement of its replies
                answered = 0;
                for (CompletableFuture<Integer> call : calls) {
                    answered += call.isDone() ? 1 : 0;
                }
            }
            assertThat(answered).as("calls answered before the server heard any acknowledgement").isEqualTo(CALLS);
            for (CompletableFuture<Integer> call : calls) {
                assertThat(call.join()).isEqualTo(8);
            }
            CompletableFuture<Void> closing = CompletableFuture.runAsync(client::close);
            deadline = System.nanoTime() + PHASE_NANOS;
            while (!closing.isDone() && System.nanoTime() - deadline < 0) {
                serverNic.progress();
            }
            closing.join();
            server.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }
}
