package org.unetmm.rpc.example;

import java.nio.ByteBuffer;
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
import org.unetmm.rpc.RpcClient;
import org.unetmm.rpc.RpcClientConfig;
import org.unetmm.rpc.RpcException;
import org.unetmm.rpc.RpcServer;
import org.unetmm.rpc.RpcServerConfig;
import org.unetmm.rpc.RpcStatus;

/**
 * A key-value service over unetmm RPC, runnable three ways (the wires come from unetmm-nic-backend,
 * which must be on the class path, as it is in {@code benchmarks/target/unetmm.jar}):
 * <pre>
 *   KeyValueExample server --bind udp://127.0.0.1:7000
 *       serves until its standard input closes; prints the address clients connect to
 *   KeyValueExample client --bind udp://127.0.0.1:0 --server udp://127.0.0.1:7000/1 [--keys 1000] [--size 256]
 *       PUTs, GETs (checked) and DELETEs the keys, prints latencies
 *   KeyValueExample demo [--wire loopback|udp] [--keys 1000] [--size 256]
 *       both in this process
 * </pre>
 * The server's first channel is its listening channel, so on a fresh NIC its address is
 * {@code <bind>/1}. Exit status 0 when every value came back as stored.
 */
public final class KeyValueExample {
    private KeyValueExample() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage("a mode is required");
        }
        Map<String, String> options = options(Arrays.copyOfRange(args, 1, args.length));
        int keys = Integer.parseInt(options.getOrDefault("keys", "1000"));
        int size = Integer.parseInt(options.getOrDefault("size", "256"));
        switch (args[0]) {
            case "server" -> server(required(options, "bind"));
            case "client" -> System.exit(client(required(options, "bind"),
                    ChannelAddress.parse(required(options, "server")), keys, size) ? 0 : 1);
            case "demo" -> System.exit(demo(options.getOrDefault("wire", "loopback"), keys, size) ? 0 : 1);
            default -> usage("unknown mode '" + args[0] + "'");
        }
    }

    private static void server(String bind) throws Exception {
        try (Nic nic = Nic.open(NicConfig.builder().transport(bind).build())) {
            RpcServer server = RpcServer.open(nic, RpcServerConfig.defaults());
            KeyValueService store = new KeyValueService().serveOn(server);
            System.out.println("key-value server listening at " + server.address());
            System.out.println("(connect with: KeyValueExample client --bind udp://<host>:0 --server " + server.address() + ")");
            System.out.flush();
            CountDownLatch stdinClosed = new CountDownLatch(1);
            Thread watch = new Thread(() -> {
                try {
                    while (System.in.read() >= 0) {
                        // serve until the input ends (Ctrl-D, or the parent is gone)
                    }
                } catch (Exception ignored) {
                    // same
                }
                stdinClosed.countDown();
            }, "stdin");
            watch.setDaemon(true);
            watch.start();
            stdinClosed.await();
            System.out.println("served " + server.served() + " requests to " + server.clients() + " client(s); "
                    + store.size() + " keys stored");
            server.close();
        }
    }

    private static boolean client(String bind, ChannelAddress server, int keys, int size) throws Exception {
        try (Nic nic = Nic.open(NicConfig.builder().transport(bind).build())) {
            RpcClient rpc = RpcClient.connect(nic, server, RpcClientConfig.builder().maxResponse(Math.max(size, 1024))
                    .timeout(Duration.ofSeconds(5)).build());
            try {
                return exercise(new KeyValueClient(rpc), keys, size);
            } finally {
                rpc.close();
            }
        }
    }

    private static boolean demo(String wire, int keys, int size) throws Exception {
        String uri = wire.equals("udp") ? "udp://127.0.0.1:0" : "loopback:";
        try (Nic serverNic = Nic.open(NicConfig.builder().transport(uri).build());
             Nic clientNic = Nic.open(NicConfig.builder().transport(uri).build())) {
            RpcServer server = RpcServer.open(serverNic, RpcServerConfig.defaults());
            new KeyValueService().serveOn(server);
            System.out.println("server listening at " + server.address());
            RpcClient rpc = RpcClient.connect(clientNic, server.address(),
                    RpcClientConfig.builder().maxResponse(Math.max(size, 1024)).build());
            try {
                return exercise(new KeyValueClient(rpc), keys, size);
            } finally {
                rpc.close();
                server.close();
            }
        }
    }

    /** PUT every key, GET each back (checked), GET a missing one, DELETE them all; prints latencies. */
    static boolean exercise(KeyValueClient kv, int keys, int size) throws Exception {
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
                usage("expected --name value, got '" + args[i] + "'");
            }
            map.put(args[i].substring(2), args[++i]);
        }
        return map;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            usage("--" + name + " is required");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println(problem + "\nusage: KeyValueExample server --bind udp://HOST:PORT\n"
                + "       KeyValueExample client --bind udp://HOST:0 --server udp://HOST:PORT/1 [--keys N] [--size BYTES]\n"
                + "       KeyValueExample demo [--wire loopback|udp] [--keys N] [--size BYTES]");
        System.exit(2);
    }
}
