package org.unetmm.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.ReliableStats;
import org.unetmm.pinning.ProcessStatus;

/**
 * A server holds {@code requestBuffers} requests at once, and a request's buffer stays lent until
 * its reply is acknowledged, which the client's next call carries. A client that keeps exactly
 * that many calls in flight must not find the server out of buffers for that next call: every
 * call completes and none is refused as receiver-not-ready (a refusal pauses the channel and
 * resends everything after it, and at this load it came back on every call: about a thousand
 * calls a second instead of a million).
 */
@Timeout(60)
class RpcServerCapacityTest {
    private static final int ECHO = 1;
    private static final long DEADLINE_NANOS = 20_000_000_000L;

    @ParameterizedTest(name = "requestBuffers = maxInFlight = {0}")
    @ValueSource(ints = {4, 32})
    void aClientWithAsManyCallsInFlightAsTheServerHoldsIsNeverRefused(int held) throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        int total = 1_000;
        try (Nic serverNic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER).build());
             Nic clientNic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER).build())) {
            RpcServer server = RpcServer.open(serverNic, RpcServerConfig.builder().requestBuffers(held).build());
            server.register(ECHO, (request, response) -> response.send(request.buffer(), request.offset(), request.length()));
            CompletableFuture<RpcClient> connecting = RpcClient.connectAsync(clientNic, server.address(),
                    RpcClientConfig.builder().maxInFlight(held).build());
            long deadline = System.nanoTime() + DEADLINE_NANOS;
            while (!connecting.isDone() && System.nanoTime() - deadline < 0) {
                clientNic.progress();
                serverNic.progress();
            }
            RpcClient client = connecting.get();
            ByteBuffer[] requests = new ByteBuffer[held];
            ByteBuffer[] answers = new ByteBuffer[held];
            @SuppressWarnings("unchecked")
            CompletableFuture<Integer>[] calls = new CompletableFuture[held];
            int issued = 0;
            int completed = 0;
            for (int i = 0; i < held; i++) {
                requests[i] = ByteBuffer.allocateDirect(8);
                answers[i] = ByteBuffer.allocateDirect(8);
                requests[i].putLong(0, issued);
                calls[i] = client.call(ECHO, requests[i], 0, 8, answers[i], 0, 8);
                issued++;
            }
            long[] expected = new long[held];
            for (int i = 0; i < held; i++) {
                expected[i] = i;
            }
            while (completed < total) {
                assertThat(System.nanoTime() - deadline).as(completed + " of " + total + " calls completed").isNegative();
                clientNic.progress();
                serverNic.progress();
                for (int i = 0; i < held; i++) {
                    if (calls[i] != null && calls[i].isDone()) {
                        assertThat(calls[i].join()).isEqualTo(8);
                        assertThat(answers[i].getLong(0)).as("call " + expected[i] + "'s answer").isEqualTo(expected[i]);
                        completed++;
                        calls[i] = null;
                        if (issued < total) { // the next call at once, as a pipelined client does
                            expected[i] = issued;
                            requests[i].putLong(0, issued++);
                            calls[i] = client.call(ECHO, requests[i], 0, 8, answers[i], 0, 8);
                        }
                    }
                }
            }
            ReliableStats stats = client.channel().reliableStats();
            assertThat(stats.notReadyReceived()).as("calls the server refused for want of a buffer; " + stats).isZero();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(client::close);
            while (!closing.isDone() && System.nanoTime() - deadline < 0) {
                serverNic.progress();
            }
            closing.join();
            server.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }
}
