package org.unetmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChannelOptionsTest {
    @Test
    void defaultsAreUnreliableAndReliableDefaultsValidate() {
        assertThat(ChannelOptions.unreliable().isReliable()).isFalse();
        ChannelOptions reliable = ChannelOptions.reliable();
        assertThat(reliable.isReliable()).isTrue();
        assertThat(reliable.checksum()).isTrue();
        assertThat(reliable.toBuilder().build()).isEqualTo(reliable);
    }

    @Test
    void badTimersFailWhenBuiltAndSayWhatToFix() {
        assertThatThrownBy(() -> ChannelOptions.builder().minRto(Duration.ofMillis(5)).initialRto(Duration.ofMillis(1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minRto <= initialRto");
        assertThatThrownBy(() -> ChannelOptions.builder().ackDelay(Duration.ofMillis(1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below minRto");
        assertThatThrownBy(() -> ChannelOptions.builder().window(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window");
        assertThatThrownBy(() -> ChannelOptions.builder().maxRetransmits(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRetransmits");
        assertThatThrownBy(() -> ChannelOptions.builder().keepAlive(Duration.ofMillis(-1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keepAlive");
    }
}
