package org.unetmm.bench;

import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every command that writes results shares: the terminal format and the results folder. */
class ResultsOptions {
    @Option(names = "--format", description = "terminal output: table or csv, or json where the command says so"
            + " (default ${DEFAULT-VALUE})", defaultValue = "table")
    String format;

    @Option(names = "--results", description = "results folder (default ${DEFAULT-VALUE})", defaultValue = "results")
    Path results;

    /** Checks the options (table or csv); the message of the exception says what was wrong. */
    void validate(CommandLine commandLine) {
        validate(commandLine, false);
    }

    /** Checks the options, json allowed when {@code json}; the message of the exception says what was wrong. */
    void validate(CommandLine commandLine, boolean json) {
        if (!format.equals("table") && !format.equals("csv") && !(json && format.equals("json"))) {
            throw new CommandLine.ParameterException(commandLine, "--format must be 'table'" + (json ? ", 'csv' or 'json'"
                    : " or 'csv' (this command writes no json)") + ", got '" + format + "'");
        }
    }

    boolean json() {
        return format.equals("json");
    }

    boolean csv() {
        return format.equals("csv");
    }
}
