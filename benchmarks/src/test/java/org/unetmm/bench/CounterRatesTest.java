package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rates {@code unetmm stat} prints: per NIC, over the time that passed, none before a NIC's second line. */
class CounterRatesTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aNicOpenedBetweenTwoLinesGetsNoRateRatherThanTheDifferenceOfTwoNicsCounters() {
        CounterRates rates = new CounterRates();
        assertThat(rates.update("unetmm-nic-9", 0, 40_000_000L)).isNull();
        assertThat(rates.update("unetmm-nic-9", SECOND, 45_000_000L)[0]).isCloseTo(5_000_000.0, within(1e-6));
        // nic-9 closes, nic-11 opens with small counts: it was once compared with nic-9's and printed as -40 M msg/s
        rates.retain(Set.of());
        assertThat(rates.update("unetmm-nic-11", 2 * SECOND, 900_000L)).isNull();
        assertThat(rates.update("unetmm-nic-11", 3 * SECOND, 1_100_000L)[0]).isCloseTo(200_000.0, within(1e-6));
    }

    @Test
    void aRateIsOverTheTimeThatReallyPassedNotTheNominalInterval() {
        CounterRates rates = new CounterRates();
        rates.update("nic", 0, 0L, 0L);
        double[] perSecond = rates.update("nic", 1_250_000_000L, 1_000L, 5_000L); // the JMX reads took 250 ms more
        assertThat(perSecond[0]).isCloseTo(800.0, within(1e-9));
        assertThat(perSecond[1]).isCloseTo(4_000.0, within(1e-9));
    }

    @Test
    void twoNicsListedInAnyOrderKeepTheirOwnRates() {
        CounterRates rates = new CounterRates();
        rates.update("a", 0, 100L);
        rates.update("b", 0, 1_000_000L);
        assertThat(rates.update("b", SECOND, 1_000_010L)[0]).isCloseTo(10.0, within(1e-9));
        assertThat(rates.update("a", SECOND, 300L)[0]).isCloseTo(200.0, within(1e-9));
    }

    @Test
    void noRateIsPrintedAsADash() {
        assertThat(CounterRates.format(null, 0, 1, "%.0f")).isEqualTo("-");
        assertThat(CounterRates.format(new double[] {2_500_000.0}, 0, 1e6, "%.1f")).isEqualTo("2.5");
    }
}
