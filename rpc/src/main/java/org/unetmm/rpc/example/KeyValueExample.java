package org.unetmm.rpc.example;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
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
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

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
 * The command line is picocli's ({@code --help} on every mode); latencies are HdrHistogram's.
 */
@Command(name = "KeyValueExample", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "MODE",
        subcommands = {KeyValueExample.Server.class, KeyValueExample.Client.class, KeyValueExample.Demo.class},
        description = "A key-value service over unetmm RPC.",
        footer = {"%nExit status: 0 every value came back as stored, 1 the run failed (one line says why;"
                + " UNETMM_STACK_TRACE=1 adds the stack trace), 2 a usage error."})
public final class KeyValueExample implements Callable<Integer> {
    /** A PUT's request beside its value: the key's length (u16) and the key ("key-" and a number). */
    static final int PUT_OVERHEAD = 2 + 16;
    private static final int DEFAULT_MAX_MESSAGE = 64 * 1024;
    private static final int MAX_BYTES = 64 << 20;

    @Spec
    private CommandSpec spec;

    private KeyValueExample() {
    }

    /**
     * Runs the command line and exits with its status.
     *
     * @param args {@code server}, {@code client} or {@code demo} and their options; {@code --help} lists them
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit status (0 ok, 1 failed, 2 usage), for tests. */
    static int run(String... args) {
        CommandLine line = new CommandLine(new KeyValueExample());
        line.setErr(new PrintWriter(System.err, true));
        line.setOut(new PrintWriter(System.out, true));
        line.setParameterExceptionHandler((e, given) -> { // what was wrong, a suggestion, then the usage
            PrintWriter err = e.getCommandLine().getErr();
            err.println(e.getMessage());
            UnmatchedArgumentException.printSuggestions(e, err);
            e.getCommandLine().usage(err);
            return 2;
        });
        line.setExecutionExceptionHandler((e, cl, parsed) -> {
            Throwable why = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            cl.getErr().println("KeyValueExample: " + (why.getMessage() != null ? why.getMessage() : why.toString()));
            if (System.getenv("UNETMM_STACK_TRACE") != null) {
                e.printStackTrace(cl.getErr());
            }
            return 1;
        });
        return line.execute(args);
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "a mode is required: server, client or demo");
    }

    /** The options every mode has. */
    static final class Sizes {
        @Option(names = "--keys", paramLabel = "N", description = "keys to PUT, GET and DELETE (default ${DEFAULT-VALUE})")
        int keys = 1000;
        @Option(names = "--size", paramLabel = "BYTES", description = "bytes per value (default ${DEFAULT-VALUE})")
        int size = 256;
        @Option(names = "--max-message", paramLabel = "BYTES",
                description = "the largest request the server takes (default ${DEFAULT-VALUE})")
        int maxMessage = DEFAULT_MAX_MESSAGE;

        void check(CommandSpec spec) {
            within(spec, "--keys", keys, 1, 1 << 24);
            within(spec, "--size", size, 0, MAX_BYTES);
            within(spec, "--max-message", maxMessage, 0, MAX_BYTES);
        }
    }

    private static void within(CommandSpec spec, String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new ParameterException(spec.commandLine(), option + " must be in " + min + ".." + max + ", got " + value);
        }
    }

    @Command(name = "server", mixinStandardHelpOptions = true,
            description = "Serves until interrupted (Ctrl-C, SIGTERM) or for --duration; prints the address clients connect to.",
            footer = {"%nExample:", "  KeyValueExample server --bind udp://127.0.0.1:7000 --duration 60"})
    static final class Server implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--bind", required = true, paramLabel = "URI", description = "the wire to serve on, e.g. udp://127.0.0.1:7000")
        String bind;
        @Option(names = "--duration", paramLabel = "SECONDS", description = "serve this long (default: until interrupted)")
        Integer duration;
        @Option(names = "--max-message", paramLabel = "BYTES",
                description = "the largest request taken (default ${DEFAULT-VALUE})")
        int maxMessage = DEFAULT_MAX_MESSAGE;

        @Override
        public Integer call() throws Exception {
            within(spec, "--max-message", maxMessage, 0, MAX_BYTES);
            if (duration != null) {
                within(spec, "--duration", duration, 0, Integer.MAX_VALUE);
            }
            return server(bind, maxMessage, duration == null ? -1 : duration);
        }
    }

    @Command(name = "client", mixinStandardHelpOptions = true,
            description = "PUTs, GETs (checked) and DELETEs the keys on a server, prints latencies.",
            footer = {"%nExample:", "  KeyValueExample client --bind udp://127.0.0.1:0 --server udp://127.0.0.1:7000/1 --keys 1000"})
    static final class Client implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--bind", required = true, paramLabel = "URI", description = "this client's wire, e.g. udp://127.0.0.1:0")
        String bind;
        @Option(names = "--server", required = true, paramLabel = "ADDRESS",
                description = "the address the server printed, e.g. udp://127.0.0.1:7000/1")
        String server;
        @Mixin
        Sizes sizes = new Sizes();

        @Override
        public Integer call() throws Exception {
            sizes.check(spec);
            return client(bind, ChannelAddress.parse(server), sizes.keys, sizes.size) ? 0 : 1;
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true, description = "Server and client in this process.",
            footer = {"%nExamples:", "  KeyValueExample demo --wire loopback", "  KeyValueExample demo --wire udp --record-trace kv.trace"})
    static final class Demo implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--wire", paramLabel = "loopback|udp", description = "the wire between them (default ${DEFAULT-VALUE})")
        String wire = "loopback";
        @Option(names = "--record-trace", paramLabel = "FILE",
                description = "write the client NIC's TLB page stream here, to replay with unetmm pressure --trace-file")
        Path recordTrace;
        @Mixin
        Sizes sizes = new Sizes();

        @Override
        public Integer call() throws Exception {
            sizes.check(spec);
            if (!wire.equals("loopback") && !wire.equals("udp")) {
                throw new ParameterException(spec.commandLine(), "--wire must be loopback or udp, got '" + wire + "'");
            }
            return demo(wire, sizes.keys, sizes.size, sizes.maxMessage, recordTrace) ? 0 : 1;
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
        Histogram putNanos = new Histogram(3);
        Histogram getNanos = new Histogram(3);
        ByteBuffer value = ByteBuffer.allocateDirect(size);
        ByteBuffer into = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < keys; i++) {
            fill(value, i);
            long start = System.nanoTime();
            kv.put("key-" + i, value).get(10, TimeUnit.SECONDS);
            putNanos.recordValue(System.nanoTime() - start);
        }
        boolean ok = true;
        for (int i = 0; i < keys; i++) {
            long start = System.nanoTime();
            int length = kv.get("key-" + i, into).get(10, TimeUnit.SECONDS);
            getNanos.recordValue(System.nanoTime() - start);
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

    private static double percentile(Histogram nanos, double p) {
        return nanos.getValueAtPercentile(p) / 1000.0;
    }
}
