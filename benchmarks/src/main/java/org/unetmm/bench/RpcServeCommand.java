package org.unetmm.bench;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import org.unetmm.IdleStrategy;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.rpc.RpcServer;
import org.unetmm.rpc.RpcServerConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm rpc serve --listen URI}: an {@link RpcServer} whose method {@link RpcCommand#ECHO_METHOD}
 * echoes the request zero-copy (the reply is sent straight out of the posted request buffer), or
 * with {@code --reply-size N} answers N bytes from a buffer of its own. The caller's thread drives
 * the NIC (CALLER progress), so a handler runs on it with no hand-off. A line each second (calls
 * served/s, MB/s in, clients); runs until SIGINT/SIGTERM or {@code --duration}.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Answer RPCs from 'unetmm rpc bench' (echo, or a fixed reply size); a line each second.",
        footer = {"", "Examples:",
                "  unetmm rpc serve --listen udp://127.0.0.1:7200",
                "  unetmm rpc serve --listen udp://198.18.0.2:7200 --reply-size 8 --duration 60",
                "  unetmm rpc serve --listen shm:rpc1 --max-request 1MiB --buffers 64",
                "", "Exit status: 0 when --duration ends, 1 when it could not listen, 2 on bad usage; stopped by SIGINT or"
                        + " SIGTERM it prints its last line, closes its NIC and exits as the signal says (130, 143)."})
public final class RpcServeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--listen", required = true, description = "transport URI to bind: udp://host:port or shm:name")
    String listen;

    @Option(names = "--reply-size", converter = ByteSize.class, description = "answer this many bytes instead of"
            + " echoing the request (default: echo)")
    Integer replySize;

    @Option(names = "--max-request", converter = ByteSize.class, defaultValue = "64KiB",
            description = "largest request taken (default ${DEFAULT-VALUE})")
    int maxRequest;

    @Option(names = "--buffers", defaultValue = "256", description = "requests held at once across all clients;"
            + " twice as many buffers are posted, for the calls that arrive while earlier requests' buffers are"
            + " lent to replies not yet acknowledged (default ${DEFAULT-VALUE})")
    int buffers;

    @Option(names = "--duration", description = "stop after this many seconds (default: until interrupted)")
    Double durationSeconds;

    @Option(names = "--spin", description = "busy-spin between idle rounds, at the cost of a core (default: back off"
            + " to a park, so an idle server costs no CPU and leaves a shared core to the client)")
    boolean spin;

    @Override
    public Integer call() {
        ByteSize.checkCount(spec.commandLine(), "--buffers", buffers, 1, 65_536);
        ByteSize.check(spec.commandLine(), "--max-request", maxRequest, 1, 64 << 20, null);
        if (replySize != null) {
            ByteSize.check(spec.commandLine(), "--reply-size", replySize, 0, 64 << 20, null);
        }
        if ((long) buffers * (maxRequest + 16) > (1L << 30)) {
            throw bad("--buffers x --max-request is " + (long) buffers * maxRequest + " B: keep it under 1 GiB (and under"
                    + " RLIMIT_MEMLOCK)");
        }
        if (durationSeconds != null && !(durationSeconds >= 0)) {
            throw bad("--duration must be >= 0 seconds");
        }
        PrintStream out = System.out;
        StopSignal stop = new StopSignal("unetmm-rpc-serve-stop");
        try (Nic nic = Nic.open(NicConfig.builder().transport(listen).progressMode(ProgressMode.CALLER).build())) {
            RpcServer server = RpcServer.open(nic, RpcServerConfig.builder().requestBuffers(buffers).maxRequest(maxRequest)
                    .maxResponse(Math.max(1, replySize == null ? 1 : replySize)).build());
            if (server.address().tag() != RpcCommand.LISTEN_TAG) {
                throw new IllegalStateException("the server's listening channel got tag " + server.address().tag() + ", not "
                        + RpcCommand.LISTEN_TAG);
            }
            if (replySize == null) {
                server.register(RpcCommand.ECHO_METHOD, (request, response) ->
                        response.send(request.buffer(), request.offset(), request.length()));
            } else {
                int n = replySize;
                ByteBuffer reply = ByteBuffer.allocateDirect(Math.max(1, n)); // never written: safe to send zero-copy to all
                server.register(RpcCommand.ECHO_METHOD, (request, response) -> response.send(reply, 0, n));
            }
            out.println("rpc serve: listening on " + nic.transportAddress() + "/" + RpcCommand.LISTEN_TAG + ", "
                    + (replySize == null ? "echo" : "replies of " + replySize + " B") + ", " + buffers
                    + " requests held (" + 2 * buffers + " buffers of " + maxRequest + " B posted), MTU " + nic.mtu());
            out.flush();
            long start = System.nanoTime();
            long end = durationSeconds == null ? Long.MAX_VALUE : start + (long) (durationSeconds * 1e9);
            long nextLine = start + 1_000_000_000L;
            long lineServed = 0;
            IdleStrategy idle = spin ? IdleStrategy.busySpin() : IdleStrategy.backoff();
            while (!stop.requested() && System.nanoTime() - end < 0) {
                idle.idle(nic.progress());
                long now = System.nanoTime();
                if (now - nextLine >= 0) {
                    long served = server.served();
                    out.printf("rpc serve: %4d s  %,12d calls/s  clients %d  (total %,d calls, %,d failed)%n",
                            (now - start) / 1_000_000_000L, served - lineServed, server.clients(), served, server.failed());
                    out.flush();
                    lineServed = served;
                    nextLine += 1_000_000_000L;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long served = server.served();
            server.close();
            out.printf("rpc serve: stopped after %.1f s; %,d calls served (%,.0f calls/s), %,d failed, %,d malformed%n",
                    seconds, served, served / seconds, server.failed(), server.malformed());
            String wire = WireSummary.line("rpc serve", nic);
            if (wire != null) {
                out.println(wire);
            }
            out.flush();
        } finally {
            stop.close();
        }
        return 0;
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
