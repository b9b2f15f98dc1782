package org.unetmm.bench;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --spread-flag}: the (max − min) ÷ median over a point's repeats above which the point is
 * flagged {@link ComparePoint#SPREAD}, shared by every command that repeats its measurements.
 */
final class SpreadFlag {
    @Option(names = "--spread-flag", description = "flag a point whose (max-min)/median over its repeats is above this"
            + " (default ${DEFAULT-VALUE})", defaultValue = "0.25")
    double spreadFlag;

    /** The threshold, checked; the exception's message names what to give. */
    double threshold(CommandLine commandLine) {
        if (!(spreadFlag > 0) || Double.isInfinite(spreadFlag)) {
            throw new CommandLine.ParameterException(commandLine, "--spread-flag must be a positive number (0.25 flags a"
                    + " point whose repeats differ by a quarter), got " + spreadFlag);
        }
        return spreadFlag;
    }
}
