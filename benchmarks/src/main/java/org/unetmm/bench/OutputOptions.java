package org.unetmm.bench;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every sweep shares: the wire, and (from {@link ResultsOptions}) the terminal format and results folder. */
final class OutputOptions extends ResultsOptions {
    @Option(names = "--transport", description = "wire URI: loopback: or udp://host:port with a local host, port 0"
            + " recommended, e.g. udp://127.0.0.1:0; compare also takes shm:[name][?options], across two processes"
            + " (default ${DEFAULT-VALUE})", defaultValue = "loopback:")
    String transport;

    /** Checks the shared options; the message of the exception says what was wrong. */
    @Override
    void validate(CommandLine commandLine, boolean json) {
        validate(commandLine, json, false);
    }

    /** As {@link #validate(CommandLine, boolean)}, accepting {@code shm:} URIs when {@code shm} (the command runs them). */
    void validate(CommandLine commandLine, boolean json, boolean shm) {
        super.validate(commandLine, json);
        if (shm && ShmCompareRun.isShm(transport)) {
            String problem = ShmCompareRun.problem(transport);
            if (problem != null) {
                throw new CommandLine.ParameterException(commandLine, "--transport " + problem);
            }
        } else if (UdpWire.isUdp(transport)) {
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
}
