package org.unetmm.bench;

import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every experiment shares: the wire, the terminal format, the results folder. */
final class OutputOptions {
    @Option(names = "--transport", description = "wire URI (default ${DEFAULT-VALUE})", defaultValue = "loopback:")
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
        if (!transport.startsWith("loopback:")) {
            throw new CommandLine.ParameterException(commandLine, "--transport '" + transport
                    + "': only loopback: is available to this command in this build");
        }
    }

    boolean csv() {
        return format.equals("csv");
    }
}
