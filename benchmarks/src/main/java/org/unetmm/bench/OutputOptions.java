package org.unetmm.bench;

import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every experiment shares: the wire, the terminal format, the results folder. */
final class OutputOptions {
    @Option(names = "--transport", description = "wire URI: loopback: or udp://host:port with a local host, port 0"
            + " recommended, e.g. udp://127.0.0.1:0 (default ${DEFAULT-VALUE})", defaultValue = "loopback:")
    String transport;

    @Option(names = "--format", description = "terminal output: table or csv (default ${DEFAULT-VALUE})", defaultValue = "table")
    String format;

    @Option(names = "--results", description = "results folder (default ${DEFAULT-VALUE})", defaultValue = "results")
    Path results;

    /** Checks the shared options; the message of the exception says what was wrong. */
    void validate(CommandLine commandLine) {
        if (!format.equals("table") && !format.equals("csv")) {
            throw new CommandLine.ParameterException(commandLine, "--format must be 'table' or 'csv', got '" + format + "'");
        }
        if (UdpWire.isUdp(transport)) {
            String problem = UdpWire.problem(transport);
            if (problem != null) {
                throw new CommandLine.ParameterException(commandLine, "--transport " + problem);
            }
        } else if (!transport.startsWith("loopback:")) {
            throw new CommandLine.ParameterException(commandLine, "--transport '" + transport
                    + "': this command runs on loopback: (in-JVM) or udp://host:port (a local host, e.g."
                    + " udp://127.0.0.1:0)");
        }
    }

    boolean csv() {
        return format.equals("csv");
    }
}
