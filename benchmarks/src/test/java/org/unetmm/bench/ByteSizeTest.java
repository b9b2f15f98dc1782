package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ByteSizeTest {
    @Test
    void bytesKibibytesAndMebibytesParseInAnyCase() {
        assertThat(ByteSize.parse("64")).isEqualTo(64);
        assertThat(ByteSize.parse("64B")).isEqualTo(64);
        assertThat(ByteSize.parse("4KiB")).isEqualTo(4096);
        assertThat(ByteSize.parse("4 kib")).isEqualTo(4096);
        assertThat(ByteSize.parse("1MiB")).isEqualTo(1 << 20);
    }

    @Test
    void otherFormsAndSizesPastTwoGibibytesAreRejectedNamingTheFormsAccepted() {
        for (String bad : new String[] {"4KB", "1.5KiB", "x", ""}) {
            assertThatThrownBy(() -> ByteSize.parse(bad)).as(bad).isInstanceOf(CommandLine.TypeConversionException.class)
                    .hasMessageContaining("64, 64B, 4KiB or 1MiB");
        }
        assertThatThrownBy(() -> ByteSize.parse("2048MiB")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> ByteSize.parse("-1")).hasMessageContaining("out of range");
    }
}
