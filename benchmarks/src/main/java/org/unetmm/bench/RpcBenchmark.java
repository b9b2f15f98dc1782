package org.unetmm.bench;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.unetmm.Channel;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.rpc.RpcClient;
import org.unetmm.rpc.RpcClientConfig;
import org.unetmm.rpc.RpcServer;
import org.unetmm.rpc.RpcServerConfig;

/**
 * The RPC layer against the raw U-Net channel it rides on, in one run, per wire ({@code loopback}:
 * two NICs of this JVM; {@code udp}: two NICs on 127.0.0.1) and request size (64 B, 64 KiB; the
 * reply is 64 B, or 8 B for a 64 KiB request). Each benchmark has NICs of its own, so none pays
 * for another's channels:
 * <ul>
 *   <li>{@code rawPingPong}: unreliable channels, a request and a reply, the server answering from
 *       its completion upcall: the floor;</li>
 *   <li>{@code reliablePingPong}: the same on reliable channels with the default options (CRC32C
 *       on every frame; acknowledgements ride on the reply); {@code reliableNoChecksumPingPong}
 *       without the checksum: what the protocol itself costs;</li>
 *   <li>{@code rpcCall}: {@link RpcClient#call} to an {@link RpcServer} handler, one call at a time
 *       (header, request id, future, handler dispatch, reply copied into the caller's buffer), with
 *       the default (checksummed) channel; {@code rpcCallNoChecksum} without the checksum;</li>
 *   <li>{@code rpcPipelined}: 16 calls in flight, the throughput of a busy client (ops/s; at 64 KiB
 *       multiply by 65536 for bytes/s).</li>
 * </ul>
 * Caller-driven progress: the benchmark thread drives both NICs, so one op is one round trip with
 * no thread hand-off. The target: rpcCall at 64 B within 1.2x of rawPingPong.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class RpcBenchmark {
    private static final int METHOD = 1;
    private static final int PIPELINE = 16;

    /** The wire and size every state shares. */
    @State(Scope.Thread)
    public static class Wire {
        @Param({"loopback", "udp"})
        public String wire;

        @Param({"64", "65536"})
        public int size;

        int replySize() {
            return size > 64 ? 8 : 64;
        }

        Nic open() {
            String uri = wire.equals("udp") ? "udp://127.0.0.1:0" : "loopback:";
            return Nic.open(NicConfig.builder().transport(uri).progressMode(ProgressMode.CALLER).build());
        }
    }

    /** A client and a server endpoint joined by one channel; the server answers from its upcall. */
    public abstract static class PingPong {
        Nic clientNic;
        Nic serverNic;
        Endpoint client;
        Endpoint server;
        Channel channel;
        ByteBuffer request;
        ByteBuffer reply;
        ByteBuffer clientReceive;
        int size;
        int replySize;
        int answers;

        abstract ChannelConfig options();

        @Setup(Level.Trial)
        public void setUp(Wire wire) {
            size = wire.size;
            replySize = wire.replySize();
            clientNic = wire.open();
            serverNic = wire.open();
            EndpointConfig config = EndpointConfig.builder().segmentBytes(0).build();
            client = clientNic.openEndpoint(config);
            server = serverNic.openEndpoint(config);
            channel = client.openChannel(options());
            Channel back = server.openChannel(options());
            channel.connect(back.address());
            back.connect(channel.address());
            request = ByteBuffer.allocateDirect(size);
            reply = ByteBuffer.allocateDirect(replySize);
            clientReceive = ByteBuffer.allocateDirect(64);
            for (int i = 0; i < 8; i++) {
                server.postReceive(ByteBuffer.allocateDirect(size), i);
            }
            server.onCompletion(this::serve);
            client.onCompletion(c -> {
                if (c.kind() == Completion.Kind.RECEIVE) {
                    answers++;
                }
            });
        }

        /** The cookie of the server's replies (the client's calls count from 0). */
        private static final long REPLY = -1;

        private void serve(Completion c) {
            if (c.kind() == Completion.Kind.RECEIVE) {
                if (server.send(c.channel(), reply, 0, replySize, SendPath.PINNED, REPLY) != SendStatus.ACCEPTED) {
                    throw new IllegalStateException("server send queue full");
                }
                server.postReceive(c.buffer(), c.cookie());
            }
        }

        int roundTrip() {
            client.postReceive(clientReceive, 0);
            if (client.send(channel, request, 0, size, SendPath.PINNED, 0) != SendStatus.ACCEPTED) {
                throw new IllegalStateException("client send queue full");
            }
            answers = 0;
            while (answers == 0) {
                clientNic.progress();
                serverNic.progress();
            }
            return answers;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            clientNic.close();
            serverNic.close();
        }
    }

    @State(Scope.Thread)
    public static class Raw extends PingPong {
        @Override
        ChannelConfig options() {
            return ChannelConfig.unreliable();
        }
    }

    @State(Scope.Thread)
    public static class Reliable extends PingPong {
        @Override
        ChannelConfig options() {
            return ChannelConfig.reliable();
        }
    }

    @State(Scope.Thread)
    public static class ReliableNoChecksum extends PingPong {
        @Override
        ChannelConfig options() {
            return ChannelConfig.reliable().toBuilder().checksum(false).build();
        }
    }

    /** An RpcServer whose handler answers from the lent buffer, and a client connected to it. */
    public abstract static class Rpc {
        Nic clientNic;
        Nic serverNic;
        RpcServer server;
        RpcClient client;
        ByteBuffer request;
        ByteBuffer response;
        ByteBuffer[] requests;
        ByteBuffer[] responses;
        @SuppressWarnings("unchecked")
        final CompletableFuture<Integer>[] inFlight = new CompletableFuture[PIPELINE];
        int size;

        abstract ChannelConfig options();

        @Setup(Level.Trial)
        public void setUp(Wire wire) throws Exception {
            size = wire.size;
            int replySize = wire.replySize();
            clientNic = wire.open();
            serverNic = wire.open();
            // PIPELINE requests held, 2 x PIPELINE request buffers posted (the raw server posts 8): 64 of 64 KiB
            // would outgrow the NIC's default TLB reach (1024 pages) and measure TLB misses instead of RPC
            server = RpcServer.open(serverNic, RpcServerConfig.builder().requestBuffers(PIPELINE).maxRequest(size)
                    .maxResponse(64).channel(options()).build());
            server.register(METHOD, (req, resp) -> resp.send(replySize));
            CompletableFuture<RpcClient> connecting = RpcClient.connectAsync(clientNic, server.address(),
                    RpcClientConfig.builder().maxInFlight(PIPELINE).maxResponse(64).channel(options()).build());
            while (!connecting.isDone()) {
                clientNic.progress();
                serverNic.progress();
            }
            client = connecting.get();
            request = ByteBuffer.allocateDirect(size);
            response = ByteBuffer.allocateDirect(64);
            requests = new ByteBuffer[PIPELINE];
            responses = new ByteBuffer[PIPELINE];
            for (int i = 0; i < PIPELINE; i++) {
                requests[i] = ByteBuffer.allocateDirect(size);
                responses[i] = ByteBuffer.allocateDirect(64);
            }
        }

        int call() {
            CompletableFuture<Integer> call = client.call(METHOD, request, 0, size, response, 0, 64);
            while (!call.isDone()) {
                clientNic.progress();
                serverNic.progress();
            }
            return call.join();
        }

        int pipelined() {
            for (int i = 0; i < PIPELINE; i++) {
                inFlight[i] = client.call(METHOD, requests[i], 0, size, responses[i], 0, 64);
            }
            int done = 0;
            for (int i = 0; i < PIPELINE; i++) {
                while (!inFlight[i].isDone()) {
                    clientNic.progress();
                    serverNic.progress();
                }
                done += inFlight[i].join();
                inFlight[i] = null;
            }
            return done;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            client.close();
            server.close();
            clientNic.close();
            serverNic.close();
        }
    }

    @State(Scope.Thread)
    public static class RpcDefault extends Rpc {
        @Override
        ChannelConfig options() {
            return ChannelConfig.reliable();
        }
    }

    @State(Scope.Thread)
    public static class RpcNoChecksum extends Rpc {
        @Override
        ChannelConfig options() {
            return ChannelConfig.reliable().toBuilder().checksum(false).build();
        }
    }

    @Benchmark
    public int rawPingPong(Raw state) {
        return state.roundTrip();
    }

    @Benchmark
    public int reliablePingPong(Reliable state) {
        return state.roundTrip();
    }

    @Benchmark
    public int reliableNoChecksumPingPong(ReliableNoChecksum state) {
        return state.roundTrip();
    }

    @Benchmark
    public int rpcCall(RpcDefault state) {
        return state.call();
    }

    @Benchmark
    public int rpcCallNoChecksum(RpcNoChecksum state) {
        return state.call();
    }

    /** Calls per second with 16 in flight: each invocation completes 16 calls. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(PIPELINE)
    public int rpcPipelined(RpcDefault state) {
        return state.pipelined();
    }
}
