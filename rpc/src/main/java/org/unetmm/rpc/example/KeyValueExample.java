package org.unetmm.rpc.example;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.unetmm.ChannelAddress;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.rpc.RpcClient;
import org.unetmm.rpc.RpcClientConfig;
import org.unetmm.rpc.RpcException;
import org.unetmm.rpc.RpcServer;
import org.unetmm.rpc.RpcServerConfig;
import org.unetmm.rpc.RpcStatus;
import org.unetmm.tlb.trace.PageTraceRecorder;
import org.unetmm.tlb.trace.TraceFile;

/**
 * A key-value service over unetmm RPC, runnable three ways (the wires come from unetmm-nic-backend,
 * which must be on the class path, as it is in {@code benchmarks/target/unetmm.jar}):
 * <pre>
 *   KeyValueExample server --bind udp://127.0.0.1:7000 [--duration SECONDS] [--max-message BYTES]
 *       serves until interrupted (Ctrl-C, SIGTERM) or for --duration; prints the address clients connect to
 *   KeyValueExample client --bind udp://127.0.0.1:0 --server udp://127.0.0.1:7000/1 [--keys 1000] [--size 256]
 *       PUTs, GETs (checked) and DELETEs the keys, prints latencies
 *   KeyValueExample demo [--wire loopback|udp] [--keys 1000] [--size 256] [--max-message BYTES] [--record-trace FILE]
 *       both in this process
 * </pre>
 * The server takes requests of up to {@code --max-message} bytes (default 65536): a PUT carries its
 * key and value, so the largest value is a little less; a client asking more is told so, naming the
 * option. The server's first channel is its listening channel, so on a fresh NIC its address is
 * {@code <bind>/1}. Exit status 0 when every value came back as stored, 1 when the run failed (one
 * line on stderr says why; {@code UNETMM_STACK_TRACE=1} adds the stack trace), 2 for a usage error.
 */
public final class KeyValueExample {
    /** A PUT's request beside its value: the key's length (u16) and the key ("key-" and a number). */
    static final int PUT_OVERHEAD = 2 + 16;
    private static final int DEFAULT_MAX_MESSAGE = 64 * 1024;

    private KeyValueExample() {
    }

    /** A command line that cannot be run as given. */
    private static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String problem) {
            super(problem);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit status (0 ok, 1 failed, 2 usage), for tests. */
    static int run(String... args) {
        try {
            if (args.length == 0) {
                throw new UsageException("a mode is required");
            }
            Map<String, String> options = options(Arrays.copyOfRange(args, 1, args.length));
            int keys = number(options, "keys", 1000, 1, 1 << 24);
            int size = number(options, "size", 256, 0, 64 << 20);
            int maxMessage = number(options, "max-message", DEFAULT_MAX_MESSAGE, 0, 64 << 20);
            return switch (args[0]) {
                case "server" -> server(required(options, "bind"), maxMessage,
                        options.containsKey("duration") ? number(options, "duration", 0, 0, Integer.MAX_VALUE) : -1);
                case "client" -> client(required(options, "bind"), ChannelAddress.parse(required(options, "server")), keys, size)
                        ? 0 : 1;
                case "demo" -> demo(options.getOrDefault("wire", "loopback"), keys, size, maxMessage,
                        options.containsKey("record-trace") ? Path.of(options.get("record-trace")) : null) ? 0 : 1;
                default -> throw new UsageException("unknown mode '" + args[0] + "'");
            };
        } catch (UsageException e) {
            System.err.println(e.getMessage() + "\nusage: KeyValueExample server --bind udp://HOST:PORT [--duration SECONDS]"
                    + " [--max-message BYTES]\n"
                    + "       KeyValueExample client --bind udp://HOST:0 --server udp://HOST:PORT/1 [--keys N] [--size BYTES]\n"
                    + "       KeyValueExample demo [--wire loopback|udp] [--keys N] [--size BYTES] [--max-message BYTES]"
                    + " [--record-trace FILE]");
            return 2;
        } catch (Exception e) {
            Throwable why = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            System.err.println("KeyValueExample: " + (why.getMessage() != null ? why.getMessage() : why.toString()));
            if (System.getenv("UNETMM_STACK_TRACE") != null) {
                e.printStackTrace();
            }
            return 1;
        }
    }

    /** Serves until interrupted, or for {@code seconds} when that is not negative; returns the exit status. */
    private static int server(String bind, int maxMessage, long seconds) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        CompletableFuture<Void> closed = new CompletableFuture<>();
        // Ctrl-C or SIGTERM: stop serving, and let the server close and say what it served before the JVM goes
        Thread hook = new Thread(() -> {
            stop.countDown();
            closed.completeOnTimeout(null, 5, TimeUnit.SECONDS).join();
        }, "kv-server-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Nic nic = Nic.open(NicConfig.builder().transport(bind).build())) {
            RpcServer server = RpcServer.open(nic, serverConfig(maxMessage));
            KeyValueService store = new KeyValueService().serveOn(server);
            System.out.println("key-value server listening at " + server.address() + ", requests up to " + maxMessage + " B");
            System.out.println("(connect with: KeyValueExample client --bind udp://<host>:0 --server " + server.address() + ")");
            System.out.flush();
            boolean interrupted = seconds < 0 ? await(stop) : stop.await(seconds, TimeUnit.SECONDS);
            System.out.println("served " + server.served() + " requests; " + store.size() + " keys stored"
                    + (interrupted ? " (interrupted)" : ""));
            System.out.flush();
            server.close();
        } finally {
            closed.complete(null);
        }
        if (stop.getCount() > 0) {
            Runtime.getRuntime().removeShutdownHook(hook); // not shutting down: --duration ended the run
        }
        return 0;
    }

    private static boolean await(CountDownLatch latch) throws InterruptedException {
        latch.await();
        return true;
    }

    private static boolean client(String bind, ChannelAddress server, int keys, int size) throws Exception {
        try (Nic nic = Nic.open(NicConfig.builder().transport(bind).build())) {
            RpcClient rpc = RpcClient.connect(nic, server, RpcClientConfig.builder().maxResponse(Math.max(size, 1024))
                    .timeout(Duration.ofSeconds(5)).build());
            try {
                return exercise(new KeyValueClient(rpc), keys, size, "start the server with --max-message");
            } finally {
                rpc.close();
            }
        }
    }

    /**
     * The server's configuration for requests of up to {@code maxMessage} bytes: as many request
     * buffers as fit in 4 MiB (2 to 64), since each is posted, and so pinned, while it waits.
     */
    static RpcServerConfig serverConfig(int maxMessage) {
        return RpcServerConfig.builder().maxRequest(maxMessage).maxResponse(maxMessage)
                .requestBuffers(Math.max(2, Math.min(64, (4 << 20) / Math.max(1, maxMessage)))).build();
    }

    /**
     * Both ends in one process. With {@code recordTrace}, the page stream the client NIC's TLB saw
     * (its requests sent, its responses received) is written there, to replay with
     * {@code unetmm pressure --trace-file}: a real workload's trace, not a generated one.
     */
    private static boolean demo(String wire, int keys, int size, int maxMessage, Path recordTrace) throws Exception {
        String uri = wire.equals("udp") ? "udp://127.0.0.1:0" : "loopback:";
        PageTraceRecorder recorder = recordTrace == null ? null : new PageTraceRecorder(1 << 22);
        try (Nic serverNic = Nic.open(NicConfig.builder().transport(uri).build());
             Nic clientNic = Nic.open(NicConfig.builder().transport(uri).build())) {
            if (recorder != null) {
                clientNic.experiments().recordTlbAccesses(recorder);
            }
            RpcServer server = RpcServer.open(serverNic, serverConfig(maxMessage));
            new KeyValueService().serveOn(server);
            System.out.println("server listening at " + server.address());
            RpcClient rpc = RpcClient.connect(clientNic, server.address(),
                    RpcClientConfig.builder().maxResponse(Math.max(size, 1024)).build());
            try {
                return exercise(new KeyValueClient(rpc), keys, size, "run the demo with --max-message");
            } finally {
                rpc.close();
                server.close();
                if (recorder != null) {
                    TraceFile.write(recorder.trace("key-value demo, " + keys + " keys of " + size + " B"), recordTrace,
                            NativeMemory.pageSize());
                    System.out.println("trace: " + recorder.size() + " TLB lookups of the client NIC in " + recordTrace);
                }
            }
        }
    }

    /** PUT every key, GET each back (checked), GET a missing one, DELETE them all; prints latencies. */
    static boolean exercise(KeyValueClient kv, int keys, int size) throws Exception {
        return exercise(kv, keys, size, "raise the server's maxRequest");
    }

    /**
     * As {@link #exercise(KeyValueClient, int, int)}; a PUT the server refuses as too large fails
     * with an IllegalArgumentException that says {@code fix} and the size it needs.
     */
    private static boolean exercise(KeyValueClient kv, int keys, int size, String fix) throws Exception {
        try {
            kv.put("key-0", ByteBuffer.allocateDirect(size)).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RpcException rpc && rpc.status() == RpcStatus.REQUEST_TOO_LARGE) {
                throw new IllegalArgumentException("the server refused a PUT of a " + size + " B value as too large"
                        + " (REQUEST_TOO_LARGE): " + fix + " " + (size + PUT_OVERHEAD) + " or more, or use a smaller --size", rpc);
            }
            throw e;
        }
        long[] putNanos = new long[keys];
        long[] getNanos = new long[keys];
        ByteBuffer value = ByteBuffer.allocateDirect(size);
        ByteBuffer into = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < keys; i++) {
            fill(value, i);
            long start = System.nanoTime();
            kv.put("key-" + i, value).get(10, TimeUnit.SECONDS);
            putNanos[i] = System.nanoTime() - start;
        }
        boolean ok = true;
        for (int i = 0; i < keys; i++) {
            long start = System.nanoTime();
            int length = kv.get("key-" + i, into).get(10, TimeUnit.SECONDS);
            getNanos[i] = System.nanoTime() - start;
            fill(value, i);
            if (length != size || !into.slice(0, size).equals(value.slice(0, size))) {
                System.out.println("key-" + i + ": wrong value");
                ok = false;
            }
        }
        try {
            kv.get("no-such-key", into).get(10, TimeUnit.SECONDS);
            System.out.println("no-such-key: found?");
            ok = false;
        } catch (ExecutionException e) {
            RpcException rpc = (RpcException) e.getCause();
            ok &= rpc.status() == RpcStatus.APPLICATION && rpc.code() == KeyValueService.NOT_FOUND;
        }
        CompletableFuture<?>[] deletes = new CompletableFuture<?>[keys];
        for (int i = 0; i < keys; i++) {
            deletes[i] = kv.delete("key-" + i);
            if (i % 32 == 31) {
                deletes[i].get(10, TimeUnit.SECONDS); // a few in flight at a time
            }
        }
        CompletableFuture.allOf(deletes).get(10, TimeUnit.SECONDS);
        System.out.printf("%d keys of %d B: PUT p50 %.1f us p99 %.1f us, GET p50 %.1f us p99 %.1f us -> %s%n", keys,
                size, percentile(putNanos, 50), percentile(putNanos, 99), percentile(getNanos, 50),
                percentile(getNanos, 99), ok ? "all values intact" : "MISMATCH");
        return ok;
    }

    private static void fill(ByteBuffer b, int seed) {
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, (byte) (seed * 31 + i));
        }
    }

    private static double percentile(long[] nanos, int p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, sorted.length * p / 100)] / 1000.0;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new UsageException("expected --name value, got '" + args[i] + "'");
            }
            map.put(args[i].substring(2), args[++i]);
        }
        return map;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new UsageException("--" + name + " is required");
        }
        return value;
    }

    private static int number(Map<String, String> options, String name, int otherwise, int min, int max) {
        String text = options.get(name);
        try {
            int value = text == null ? otherwise : Integer.parseInt(text);
            if (value < min || value > max) {
                throw new UsageException("--" + name + " must be in " + min + ".." + max + ", got " + value);
            }
            return value;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number, got '" + text + "'");
        }
    }
}
