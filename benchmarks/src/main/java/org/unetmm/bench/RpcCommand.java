package org.unetmm.bench;

import java.util.concurrent.Callable;
import org.unetmm.ChannelAddress;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code unetmm rpc}: RPC between processes over the {@code rpc} module ({@code RpcServer},
 * {@code RpcClient}) on a reliable channel. {@code rpc serve} answers, {@code rpc bench} keeps K
 * calls in flight against it and reports calls/s and latency percentiles.
 */
@Command(name = "rpc", mixinStandardHelpOptions = true,
        description = "RPC rate between processes: 'rpc serve' answers, 'rpc bench' keeps K calls in flight.",
        subcommands = {RpcServeCommand.class, RpcBenchCommand.class},
        footer = {"", "Examples:",
                "  unetmm rpc serve --listen udp://127.0.0.1:7200 &",
                "  unetmm rpc bench --to udp://127.0.0.1:7200 --inflight 16 --duration 5",
                "  unetmm rpc serve --listen shm:rpc1 &",
                "  unetmm rpc bench --to shm:rpc1 --size 4KiB --inflight 8"})
public final class RpcCommand implements Callable<Integer> {
    /** The method every bench call names; the server echoes it. */
    static final int ECHO_METHOD = 1;
    /** The server's listening channel: the first channel a fresh NIC opens. */
    static final int LISTEN_TAG = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** No subcommand: a usage error, as for {@code unetmm} itself. */
    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return UnetmmCommand.USAGE;
    }

    /** The server's listening address for a transport URI as the user typed it (options after '?' dropped). */
    static ChannelAddress serverAddress(String uri) {
        int query = uri.indexOf('?');
        return new ChannelAddress(query >= 0 ? uri.substring(0, query) : uri, LISTEN_TAG);
    }
}
