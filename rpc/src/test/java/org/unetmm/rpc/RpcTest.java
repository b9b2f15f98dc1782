package org.unetmm.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.ChannelConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.nic.fault.FaultConfig;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.pinning.UnpinnableBufferException;

/** RpcServer and RpcClient on the loopback wire, NIC threads driving both. */
@Timeout(60)
class RpcTest {
    static final int ECHO = 1;
    static final int UPPER = 2;
    static final int THROWS = 3;
    static final int REFUSES = 4;
    static final int SILENT = 5;
    static final int ECHO_IN_PLACE = 6;

    private long baseline;
    private Nic serverNic;
    private Nic clientNic;
    private RpcServer server;
    private RpcClient client;

    static void registerAll(RpcServer server) {
        server.register(ECHO, (request, response) -> {
            response.buffer().put(0, request.buffer(), request.offset(), request.length());
            response.send(request.length());
        });
        server.register(UPPER, (request, response) -> {
            ByteBuffer out = response.buffer();
            for (int i = 0; i < request.length(); i++) {
                byte b = request.buffer().get(request.offset() + i);
                out.put(i, (byte) (b >= 'a' && b <= 'z' ? b - 32 : b));
            }
            response.send(request.length());
        });
        server.register(THROWS, (request, response) -> {
            throw new IllegalStateException("boom");
        });
        server.register(REFUSES, (request, response) -> response.fail(42));
        server.register(SILENT, (request, response) -> { });
        // zero-copy both ways: the reply is the request buffer itself, lent until acknowledged
        server.register(ECHO_IN_PLACE, (request, response) ->
                response.send(request.buffer(), request.offset(), request.length()));
    }

    @BeforeEach
    void open() {
        baseline = ProcessStatus.vmLckBytes();
        serverNic = Nic.open(NicConfig.builder().mtu(8192).build());
        clientNic = Nic.open(NicConfig.builder().mtu(8192).build());
        server = RpcServer.open(serverNic, RpcServerConfig.builder().maxRequest(100_000).maxResponse(100_000).build());
        registerAll(server);
        client = RpcClient.connect(clientNic, server.address(), RpcClientConfig.builder().maxResponse(100_000)
                .timeout(Duration.ofSeconds(2)).build());
    }

    @AfterEach
    void close() {
        client.close();
        server.close();
        clientNic.close();
        serverNic.close();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }

    private static ByteBuffer text(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    private static String string(ByteBuffer b, int length) {
        byte[] bytes = new byte[length];
        b.get(0, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static RpcException failure(CompletableFuture<?> future) throws InterruptedException {
        try {
            future.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(RpcException.class);
            return (RpcException) e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the call neither answered nor failed within 5 s");
        }
        throw new AssertionError("the call succeeded");
    }

    @Test
    void callReturnsTheResponseLengthWithTheResponseInTheCallersBuffer() throws Exception {
        ByteBuffer response = ByteBuffer.allocateDirect(64);
        int length = client.call(UPPER, text("hello, u-net"), response).get(5, TimeUnit.SECONDS);
        assertThat(string(response, length)).isEqualTo("HELLO, U-NET");
        assertThat(server.served()).isEqualTo(1);
    }

    @Test
    void largeRequestsAndRepliesCrossInManyFragments() throws Exception {
        ByteBuffer request = ByteBuffer.allocateDirect(100_000);
        for (int i = 0; i < request.capacity(); i++) {
            request.put(i, (byte) (i * 7));
        }
        ByteBuffer response = ByteBuffer.allocateDirect(100_000);
        for (int method : new int[] {ECHO, ECHO_IN_PLACE}) {
            assertThat(client.call(method, request, response).get(5, TimeUnit.SECONDS)).isEqualTo(100_000);
            assertThat(response).isEqualTo(request);
        }
    }

    @Test
    void responseIsReadInPlaceByAReader() throws Exception {
        ByteBuffer request = text("zero copy");
        String answer = client.call(UPPER, request, 0, request.remaining(),
                (buffer, offset, length) -> {
                    byte[] bytes = new byte[length];
                    buffer.get(offset, bytes);
                    return new String(bytes, StandardCharsets.UTF_8);
                }).get(5, TimeUnit.SECONDS);
        assertThat(answer).isEqualTo("ZERO COPY");
    }

    @Test
    void serverSideFailuresReachTheCallerAsTypedErrors() throws Exception {
        ByteBuffer response = ByteBuffer.allocateDirect(64);
        assertThat(failure(client.call(99, text("x"), response)).status()).isEqualTo(RpcStatus.NO_SUCH_METHOD);
        assertThat(failure(client.call(THROWS, text("x"), response)).status()).isEqualTo(RpcStatus.HANDLER_FAILED);
        RpcException refused = failure(client.call(REFUSES, text("x"), response));
        assertThat(refused.status()).isEqualTo(RpcStatus.APPLICATION);
        assertThat(refused.code()).isEqualTo(42);
        assertThat(failure(client.call(SILENT, text("x"), response)).status()).isEqualTo(RpcStatus.NO_REPLY);
        assertThat(failure(client.call(ECHO, ByteBuffer.allocateDirect(200_000), response)).status())
                .isEqualTo(RpcStatus.REQUEST_TOO_LARGE);
        assertThat(failure(client.call(ECHO, ByteBuffer.allocateDirect(100), ByteBuffer.allocateDirect(10))).status())
                .isEqualTo(RpcStatus.RESPONSE_TOO_LARGE);
        assertThat(client.call(UPPER, text("still fine"), response).get(5, TimeUnit.SECONDS)).isEqualTo(10);
        assertThat(server.failed()).isEqualTo(5);
    }

    @Test
    void misuseThrowsAndNamesTheFix() {
        assertThatThrownBy(() -> client.call(ECHO, ByteBuffer.allocate(10), ByteBuffer.allocateDirect(10)))
                .isInstanceOf(UnpinnableBufferException.class).hasMessageContaining("direct");
        assertThat(client.inFlight()).as("a refused call takes no slot").isZero();
        assertThatThrownBy(() -> RpcServerConfig.builder().channel(ChannelConfig.unreliable()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reliable");
    }

    @Test
    void callThatIsNotAnsweredInTimeFailsWithTimeoutAndItsLateAnswerIsDropped() throws Exception {
        try (Nic slowNic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).build())) {
            RpcServer slow = RpcServer.open(slowNic);
            registerAll(slow);
            CompletableFuture<RpcClient> connecting = RpcClient.connectAsync(clientNic, slow.address(),
                    RpcClientConfig.builder().timeout(Duration.ofMillis(100)).build());
            while (!connecting.isDone()) {
                slowNic.progress();
            }
            RpcClient impatient = connecting.get();
            ByteBuffer response = ByteBuffer.allocateDirect(64);
            CompletableFuture<Integer> call = impatient.call(UPPER, text("late"), response);
            // nobody drives the slow server's progress: the request is taken, the reply never leaves
            assertThat(failure(call).status()).isEqualTo(RpcStatus.TIMEOUT);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (impatient.inFlight() > 0 && System.nanoTime() < deadline) {
                slowNic.progress(); // the late reply arrives now, and is recognised as late
            }
            assertThat(impatient.inFlight()).isZero();
            CompletableFuture<Integer> next = impatient.call(UPPER, text("on time"), response);
            while (!next.isDone()) {
                slowNic.progress();
            }
            assertThat(string(response, next.get())).isEqualTo("ON TIME");
            impatient.close();
            slow.close();
        }
    }

    @Test
    void cancelledCallFreesItsSlotOnceTheRequestIsAcknowledged() throws Exception {
        ByteBuffer response = ByteBuffer.allocateDirect(64);
        CompletableFuture<Integer> call = client.call(UPPER, text("never mind"), response);
        call.cancel(false);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (client.inFlight() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(client.inFlight()).isZero();
        assertThat(client.call(UPPER, text("next"), response).get(5, TimeUnit.SECONDS)).isEqualTo(4);
    }

    @Test
    void callsSurviveAFaultyWire() throws Exception {
        FaultConfig faults = new FaultConfig(0.05, 0.05, 0.05, 0.01, Duration.ZERO, 99);
        try (Nic faulty = Nic.open(NicConfig.builder().transport(faults.wrap("loopback:")).mtu(2048).build())) {
            RpcClient viaFaults = RpcClient.connect(faulty, server.address(), RpcClientConfig.builder()
                    .maxResponse(100_000).build());
            ByteBuffer request = ByteBuffer.allocateDirect(10_000);
            ByteBuffer response = ByteBuffer.allocateDirect(10_000);
            for (int i = 0; i < 300; i++) {
                for (int k = 0; k < 10_000; k++) {
                    request.put(k, (byte) (i + k));
                }
                int length = 1 + (i * 37) % 10_000;
                int n = viaFaults.call(ECHO, request, 0, length, response, 0, 10_000).get(10, TimeUnit.SECONDS);
                assertThat(n).isEqualTo(length);
                assertThat(response.slice(0, n)).isEqualTo(request.slice(0, n));
            }
            viaFaults.close();
        }
    }
}
