// Class-code names from the PCI Code and Assignment Specification (rev 1.15), spelled the way
// lspci prints them so that our titles read like lspci's when it has no vendor database.

interface BaseClass {
  name: string;
  sub: Readonly<Record<number, string>>;
  /** Programming-interface names per subclass, for the few lspci shows in titles. */
  progIf?: Readonly<Record<number, Readonly<Record<number, string>>>>;
}

const CLASSES: Readonly<Record<number, BaseClass>> = {
  0x00: {
    name: 'Unclassified device',
    sub: { 0x00: 'Non-VGA unclassified device', 0x01: 'VGA compatible unclassified device', 0x05: 'Image coprocessor' },
  },
  0x01: {
    name: 'Mass storage controller',
    sub: {
      0x00: 'SCSI storage controller', 0x01: 'IDE interface', 0x02: 'Floppy disk controller',
      0x03: 'IPI bus controller', 0x04: 'RAID bus controller', 0x05: 'ATA controller',
      0x06: 'SATA controller', 0x07: 'Serial Attached SCSI controller',
      0x08: 'Non-Volatile memory controller', 0x09: 'Universal Flash Storage controller',
      0x80: 'Mass storage controller',
    },
    progIf: {
      0x01: {
        0x00: 'ISA Compatibility mode-only controller',
        0x05: 'PCI native mode-only controller',
        0x0a: 'ISA Compatibility mode controller, supports both channels switched to PCI native mode',
        0x0f: 'PCI native mode controller, supports both channels switched to ISA compatibility mode',
        0x80: 'ISA Compatibility mode-only controller, supports bus mastering',
        0x85: 'PCI native mode-only controller, supports bus mastering',
        0x8a: 'ISA Compatibility mode controller, supports both channels switched to PCI native mode, supports bus mastering',
        0x8f: 'PCI native mode controller, supports both channels switched to ISA compatibility mode, supports bus mastering',
      },
      0x06: { 0x00: 'Vendor specific', 0x01: 'AHCI 1.0', 0x02: 'Serial Storage Bus' },
      0x08: { 0x01: 'NVMHCI', 0x02: 'NVM Express' },
    },
  },
  0x02: {
    name: 'Network controller',
    sub: {
      0x00: 'Ethernet controller', 0x01: 'Token ring network controller', 0x02: 'FDDI network controller',
      0x03: 'ATM network controller', 0x04: 'ISDN controller', 0x05: 'WorldFip controller',
      0x06: 'PICMG controller', 0x07: 'Infiniband controller', 0x08: 'Fabric controller',
      0x80: 'Network controller',
    },
  },
  0x03: {
    name: 'Display controller',
    sub: { 0x00: 'VGA compatible controller', 0x01: 'XGA compatible controller', 0x02: '3D controller', 0x80: 'Display controller' },
    progIf: { 0x00: { 0x00: 'VGA controller', 0x01: '8514 controller' } },
  },
  0x04: {
    name: 'Multimedia controller',
    sub: {
      0x00: 'Multimedia video controller', 0x01: 'Multimedia audio controller',
      0x02: 'Computer telephony device', 0x03: 'Audio device', 0x80: 'Multimedia controller',
    },
  },
  0x05: {
    name: 'Memory controller',
    sub: { 0x00: 'RAM memory', 0x01: 'FLASH memory', 0x02: 'CXL', 0x80: 'Memory controller' },
  },
  0x06: {
    name: 'Bridge',
    sub: {
      0x00: 'Host bridge', 0x01: 'ISA bridge', 0x02: 'EISA bridge', 0x03: 'MicroChannel bridge',
      0x04: 'PCI bridge', 0x05: 'PCMCIA bridge', 0x06: 'NuBus bridge', 0x07: 'CardBus bridge',
      0x08: 'RACEway bridge', 0x09: 'Semi-transparent PCI-to-PCI bridge',
      0x0a: 'InfiniBand to PCI host bridge', 0x80: 'Bridge',
    },
    progIf: { 0x04: { 0x00: 'Normal decode', 0x01: 'Subtractive decode' } },
  },
  0x07: {
    name: 'Communication controller',
    sub: {
      0x00: 'Serial controller', 0x01: 'Parallel controller', 0x02: 'Multiport serial controller',
      0x03: 'Modem', 0x04: 'GPIB controller', 0x05: 'Smard Card controller', 0x80: 'Communication controller',
    },
    progIf: { 0x00: { 0x00: '8250', 0x01: '16450', 0x02: '16550', 0x03: '16650', 0x04: '16750', 0x05: '16850', 0x06: '16950' } },
  },
  0x08: {
    name: 'Generic system peripheral',
    sub: {
      0x00: 'PIC', 0x01: 'DMA controller', 0x02: 'Timer', 0x03: 'RTC', 0x04: 'PCI Hot-plug controller',
      0x05: 'SD Host controller', 0x06: 'IOMMU', 0x80: 'System peripheral', 0x99: 'Timing Card',
    },
  },
  0x09: {
    name: 'Input device controller',
    sub: {
      0x00: 'Keyboard controller', 0x01: 'Digitizer Pen', 0x02: 'Mouse controller', 0x03: 'Scanner controller',
      0x04: 'Gameport controller', 0x80: 'Input device controller',
    },
  },
  0x0a: { name: 'Docking station', sub: { 0x00: 'Generic Docking Station', 0x80: 'Docking Station' } },
  0x0b: {
    name: 'Processor',
    sub: { 0x00: '386', 0x01: '486', 0x02: 'Pentium', 0x10: 'Alpha', 0x20: 'Power PC', 0x30: 'MIPS', 0x40: 'Co-processor' },
  },
  0x0c: {
    name: 'Serial bus controller',
    sub: {
      0x00: 'FireWire (IEEE 1394)', 0x01: 'ACCESS Bus', 0x02: 'SSA', 0x03: 'USB controller',
      0x04: 'Fibre Channel', 0x05: 'SMBus', 0x06: 'InfiniBand', 0x07: 'IPMI Interface',
      0x08: 'SERCOS interface', 0x09: 'CANBUS', 0x80: 'Serial bus controller',
    },
    progIf: {
      0x03: {
        0x00: 'UHCI', 0x10: 'OHCI', 0x20: 'EHCI', 0x30: 'XHCI', 0x40: 'USB4 Host Interface',
        0x80: 'Unspecified', 0xfe: 'USB Device',
      },
    },
  },
  0x0d: {
    name: 'Wireless controller',
    sub: {
      0x00: 'IRDA controller', 0x01: 'Consumer IR controller', 0x10: 'RF controller', 0x11: 'Bluetooth',
      0x12: 'Broadband', 0x20: '802.1a controller', 0x21: '802.1b controller', 0x80: 'Wireless controller',
    },
  },
  0x0e: { name: 'Intelligent controller', sub: { 0x00: 'I2O' } },
  0x0f: {
    name: 'Satellite communications controller',
    sub: {
      0x01: 'Satellite TV controller', 0x02: 'Satellite audio communication controller',
      0x03: 'Satellite voice communication controller', 0x04: 'Satellite data communication controller',
    },
  },
  0x10: {
    name: 'Encryption controller',
    sub: { 0x00: 'Network and computing encryption device', 0x10: 'Entertainment encryption device', 0x80: 'Encryption controller' },
  },
  0x11: {
    name: 'Signal processing controller',
    sub: {
      0x00: 'DPIO module', 0x01: 'Performance counters', 0x10: 'Communication synchronizer',
      0x20: 'Signal processing management', 0x80: 'Signal processing controller',
    },
  },
  0x12: {
    name: 'Processing accelerators',
    sub: { 0x00: 'Processing accelerators', 0x01: 'SNIA Smart Data Accelerator Interface (SDXI) controller' },
  },
  0x13: { name: 'Non-Essential Instrumentation', sub: {} },
  0x40: { name: 'Coprocessor', sub: {} },
  0xff: { name: 'Unassigned class', sub: {} },
};

/**
 * The class label lspci prints before the device name, given the 16-bit base class and
 * subclass (`0x0604`): the subclass name when known, else the base-class name followed by the
 * numeric code in brackets, else `Class 0604`.
 */
export function className(classCode: number): string {
  const base = CLASSES[classCode >> 8];
  const code = classCode.toString(16).padStart(4, '0');
  if (base === undefined) return `Class ${code}`;
  const sub = base.sub[classCode & 0xff];
  return sub ?? `${base.name} [${code}]`;
}

/**
 * The class label in `lspci -nn` style: the name with the numeric code appended. When the
 * subclass is unknown lspci's name already carries the code, so it is not repeated.
 */
export function classNameWithCode(classCode: number): string {
  const base = CLASSES[classCode >> 8];
  const code = classCode.toString(16).padStart(4, '0');
  if (base === undefined) return `Class [${code}]`;
  const sub = base.sub[classCode & 0xff];
  return sub === undefined ? `${base.name} [${code}]` : `${sub} [${code}]`;
}

/** Name of a programming interface, or undefined when we carry none for this class. */
export function progIfName(classCode: number, progIf: number): string | undefined {
  const base = CLASSES[classCode >> 8];
  return base?.progIf?.[classCode & 0xff]?.[progIf];
}
