package org.unetmm.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.pinning.ProcessStatus;

/**
 * Concurrent callers: several threads call through one client at once, many calls in flight each;
 * every response is the answer to its own request (the server mixes the request's bytes with its
 * id, so a response handed to the wrong call shows).
 */
@Timeout(120)
class RpcConcurrencyTest {
    private static final int MIX = 7;
    private static final int THREADS = 4;
    private static final int CALLS = 2_000;
    private static final int DEPTH = 8;

    private static byte mixed(byte b, int i) {
        return (byte) (b * 3 + i);
    }

    @Test
    void concurrentCallsFromSeveralThreadsGetTheirOwnResponses() throws Exception {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        long baseline = ProcessStatus.vmLckBytes();
        try (Nic serverNic = Nic.open(NicConfig.builder().build()); Nic clientNic = Nic.open(NicConfig.builder().build())) {
            RpcServer server = RpcServer.open(serverNic, RpcServerConfig.builder().requestBuffers(128).build());
            server.register(MIX, (request, response) -> {
                ByteBuffer out = response.buffer();
                for (int i = 0; i < request.length(); i++) {
                    out.put(i, mixed(request.buffer().get(request.offset() + i), i));
                }
                response.send(request.length());
            });
            RpcClient client = RpcClient.connect(clientNic, server.address(), RpcClientConfig.builder()
                    .maxInFlight(THREADS * DEPTH).build());
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                workers.add(pool.submit(() -> {
                    Random random = new Random(seed + thread);
                    ByteBuffer[] requests = new ByteBuffer[DEPTH];
                    ByteBuffer[] responses = new ByteBuffer[DEPTH];
                    @SuppressWarnings("unchecked")
                    CompletableFuture<Integer>[] inFlight = new CompletableFuture[DEPTH];
                    int[] lengths = new int[DEPTH];
                    for (int d = 0; d < DEPTH; d++) {
                        requests[d] = ByteBuffer.allocateDirect(2048);
                        responses[d] = ByteBuffer.allocateDirect(2048);
                    }
                    int checked = 0;
                    for (int call = 0; call < CALLS + DEPTH; call++) {
                        int d = call % DEPTH;
                        if (inFlight[d] != null) { // the call DEPTH ago: check it, then reuse its buffers
                            int n = inFlight[d].get(10, TimeUnit.SECONDS);
                            assertThat(n).isEqualTo(lengths[d]);
                            for (int i = 0; i < n; i++) {
                                if (responses[d].get(i) != mixed(requests[d].get(i), i)) {
                                    throw new AssertionError("thread " + thread + " call " + (call - DEPTH)
                                            + ": byte " + i + " is another call's answer (seed " + seed + ")");
                                }
                            }
                            checked++;
                        }
                        if (call < CALLS) {
                            lengths[d] = 16 + random.nextInt(2000);
                            for (int i = 0; i < lengths[d]; i++) {
                                requests[d].put(i, (byte) random.nextInt());
                            }
                            inFlight[d] = client.call(MIX, requests[d], 0, lengths[d], responses[d], 0, 2048);
                        } else {
                            inFlight[d] = null;
                        }
                    }
                    return checked;
                }));
            }
            int total = 0;
            for (Future<Integer> w : workers) {
                total += w.get(100, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(total).isEqualTo(THREADS * CALLS);
            assertThat(server.served()).isEqualTo(THREADS * CALLS);
            assertThat(client.inFlight()).isZero();
            client.close();
            server.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }
}
