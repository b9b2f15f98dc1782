package org.unetmm.bench;

import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every command that writes results shares: the terminal format and the results folder. */
class ResultsOptions {
    @Option(names = "--format", description = "terminal output: table or csv (default ${DEFAULT-VALUE})", defaultValue = "table")
    String format;

    @Option(names = "--results", description = "results folder (default ${DEFAULT-VALUE})", defaultValue = "results")
    Path results;

    /** Checks the options; the message of the exception says what was wrong. */
    void validate(CommandLine commandLine) {
        if (!format.equals("table") && !format.equals("csv")) {
            throw new CommandLine.ParameterException(commandLine, "--format must be 'table' or 'csv', got '" + format + "'");
        }
    }

    boolean csv() {
        return format.equals("csv");
    }
}
