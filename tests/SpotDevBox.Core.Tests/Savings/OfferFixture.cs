namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// A small EC2 bulk offer CSV written by hand in the published format (five metadata lines, the header row,
/// one row per SKU and term), with a subset of the real columns and invented prices for eu-west-3. Shared by the
/// reader's tests and the CLI's (linked into both test projects).
/// </summary>
internal static class OfferFixture
{
    public const string Region = "eu-west-3";

    public const string PublicationDate = "2026-07-01T12:00:00Z";

    /// <summary>Data rows below the header, blank lines not counted.</summary>
    public const int DataRows = 23;

    // Kept (Linux, on-demand, shared, no pre-installed software, used capacity, per hour, in the region itself):
    //   m7i.large 0.1176, c7g.xlarge 0.1540, m7i.metal-24xl 5.6448 (bare metal), t3.micro 0.0118 (twice, same price);
    //   storage gp3 0.0928 and gp2 0.116 per GB-Mo, snapshots 0.053 per GB-Mo.
    // Left out: r7i.large (0.1764 and 0.1820: two prices after every rule).
    // Skipped: Windows, RHEL, reserved (hourly and upfront), unused/allocated capacity reservations, dedicated tenancy,
    //   SQL pre-installed, a Local Zone (instance and gp3), another region's row, snapshot archive, a gp3 IOPS row.
    public const string Csv = """
        "FormatVersion","v1.0"
        "Disclaimer","This pricing list is for informational purposes only. All prices are subject to the additional terms included in the pricing pages on http://aws.amazon.com. All Free Tier prices are also subject to the terms included at https://aws.amazon.com/free/"
        "Publication Date","2026-07-01T12:00:00Z"
        "Version","20260701120000"
        "OfferCode","AmazonEC2"
        "SKU","OfferTermCode","RateCode","TermType","PriceDescription","EffectiveDate","StartingRange","EndingRange","Unit","PricePerUnit","Currency","LeaseContractLength","PurchaseOption","Product Family","Location","Location Type","Instance Type","Tenancy","Operating System","License Model","usageType","operation","CapacityStatus","MarketOption","Pre Installed S/W","Processor Features","Region Code","Volume API Name"
        "AAAA1111","JRTCKXETXF","AAAA1111.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1176 per On Demand Linux m7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.1176000000","USD","","","Compute Instance","EU (Paris)","AWS Region","m7i.large","Shared","Linux","No License required","EUW3-BoxUsage:m7i.large","RunInstances","Used","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-3",""
        "BBBB2222","JRTCKXETXF","BBBB2222.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.2096 per On Demand Windows m7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.2096000000","USD","","","Compute Instance","EU (Paris)","AWS Region","m7i.large","Shared","Windows","No License required","EUW3-BoxUsage:m7i.large","RunInstances:0002","Used","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2,
        Intel AVX512, Intel Turbo","eu-west-3",""
        "CCCC3333","JRTCKXETXF","CCCC3333.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1896 per On Demand RHEL m7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.1896000000","USD","","","Compute Instance","EU (Paris)","AWS Region","m7i.large","Shared","RHEL","No License required","EUW3-BoxUsage:m7i.large","RunInstances:0010","Used","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-3",""
        "AAAA1111","HU7G6KETJZ","AAAA1111.HU7G6KETJZ.6YS6EN2CT7","Reserved","Linux/UNIX (Amazon VPC), m7i.large reserved instance applied","2026-07-01","0","Inf","Hrs","0.0741000000","USD","1yr","No Upfront","Compute Instance","EU (Paris)","AWS Region","m7i.large","Shared","Linux","No License required","EUW3-BoxUsage:m7i.large","RunInstances","Used","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-3",""
        "AAAA1111","NQ3QZPMQV9","AAAA1111.NQ3QZPMQV9.2TG2D8R56U","Reserved","Upfront Fee","2026-07-01","0","Inf","Quantity","650","USD","3yr","All Upfront","Compute Instance","EU (Paris)","AWS Region","m7i.large","Shared","Linux","No License required","EUW3-BoxUsage:m7i.large","RunInstances","Used","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-3",""
        "DDDD4444","JRTCKXETXF","DDDD4444.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1176 per Unused Reservation Linux m7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.1176000000","USD","","","Compute Instance","EU (Paris)","AWS Region","m7i.large","Shared","Linux","No License required","EUW3-UnusedBox:m7i.large","RunInstances","UnusedCapacityReservation","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-3",""
        "EEEE5555","JRTCKXETXF","EEEE5555.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.00 per Reservation Linux m7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.0000000000","USD","","","Compute Instance","EU (Paris)","AWS Region","m7i.large","Shared","Linux","No License required","EUW3-Reservation:m7i.large","RunInstances","AllocatedCapacityReservation","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-3",""
        "FFFF6666","JRTCKXETXF","FFFF6666.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1411 per On Demand Linux m7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.1411000000","USD","","","Compute Instance","France (Marseille)","AWS Local Zone","m7i.large","Shared","Linux","No License required","EUW3-MRS1-BoxUsage:m7i.large","RunInstances","Used","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-3",""
        "GGGG7777","JRTCKXETXF","GGGG7777.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1540 per On Demand Linux c7g.xlarge Instance Hour","2026-07-01","0","Inf","Hrs","0.1540000000","USD","","","Compute Instance","EU (Paris)","AWS Region","c7g.xlarge","Shared","Linux","No License required","EUW3-BoxUsage:c7g.xlarge","RunInstances","Used","OnDemand","NA","","eu-west-3",""
        "HHHH8888","JRTCKXETXF","HHHH8888.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1694 per Dedicated Linux c7g.xlarge Instance Hour","2026-07-01","0","Inf","Hrs","0.1694000000","USD","","","Compute Instance","EU (Paris)","AWS Region","c7g.xlarge","Dedicated","Linux","No License required","EUW3-DedicatedUsage:c7g.xlarge","RunInstances","Used","OnDemand","NA","","eu-west-3",""
        "IIII9999","JRTCKXETXF","IIII9999.JRTCKXETXF.6YS6EN2CT7","OnDemand","$5.6448 per On Demand Linux m7i.metal-24xl Instance Hour","2026-07-01","0","Inf","Hrs","5.6448000000","USD","","","Compute Instance (bare metal)","EU (Paris)","AWS Region","m7i.metal-24xl","Shared","Linux","No License required","EUW3-BoxUsage:m7i.metal-24xl","RunInstances","Used","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-3",""
        "JJJJ0000","JRTCKXETXF","JJJJ0000.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.0118 per On Demand Linux t3.micro Instance Hour (""burstable"")","2026-07-01","0","Inf","Hrs","0.0118000000","USD","","","Compute Instance","EU (Paris)","AWS Region","t3.micro","Shared","Linux","No License required","EUW3-BoxUsage:t3.micro","RunInstances","Used","OnDemand","NA","Intel AVX, Intel AVX2, Intel Turbo","eu-west-3",""
        "JJJJ0001","JRTCKXETXF","JJJJ0001.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.0118 per On Demand Linux t3.micro Instance Hour","2026-07-01","0","Inf","Hrs","0.0118","USD","","","Compute Instance","EU (Paris)","AWS Region","t3.micro","Shared","Linux","No License required","EUW3-BoxUsage:t3.micro","RunInstances","Used","OnDemand","NA","Intel AVX, Intel AVX2, Intel Turbo","eu-west-3",""
        "KKKK1111","JRTCKXETXF","KKKK1111.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.0318 per On Demand Linux with SQL Web t3.micro Instance Hour","2026-07-01","0","Inf","Hrs","0.0318000000","USD","","","Compute Instance","EU (Paris)","AWS Region","t3.micro","Shared","Linux","No License required","EUW3-BoxUsage:t3.micro","RunInstances:0200","Used","OnDemand","SQL Web","Intel AVX, Intel AVX2, Intel Turbo","eu-west-3",""
        "LLLL2222","JRTCKXETXF","LLLL2222.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1764 per On Demand Linux r7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.1764000000","USD","","","Compute Instance","EU (Paris)","AWS Region","r7i.large","Shared","Linux","No License required","EUW3-BoxUsage:r7i.large","RunInstances","Used","OnDemand","NA","Intel AMX, Intel AVX","eu-west-3",""
        "LLLL2223","JRTCKXETXF","LLLL2223.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1820 per On Demand Linux r7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.1820000000","USD","","","Compute Instance","EU (Paris)","AWS Region","r7i.large","Shared","Linux","No License required","EUW3-BoxUsage:r7i.large","RunInstances","Used","OnDemand","NA","Intel AMX, Intel AVX","eu-west-3",""
        "MMMM3333","JRTCKXETXF","MMMM3333.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.1008 per On Demand Linux m7i.large Instance Hour","2026-07-01","0","Inf","Hrs","0.1008000000","USD","","","Compute Instance","EU (London)","AWS Region","m7i.large","Shared","Linux","No License required","EUW2-BoxUsage:m7i.large","RunInstances","Used","OnDemand","NA","Intel AMX, Intel AVX, Intel AVX2, Intel AVX512, Intel Turbo","eu-west-2",""
        "NNNN4444","JRTCKXETXF","NNNN4444.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.0928 per GB-month of General Purpose (gp3) provisioned storage - EU (Paris)","2026-07-01","0","Inf","GB-Mo","0.0928000000","USD","","","Storage","EU (Paris)","AWS Region","","","","","EUW3-EBS:VolumeUsage.gp3","","","","","","eu-west-3","gp3"
        "NNNN4445","JRTCKXETXF","NNNN4445.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.116 per GB-month of General Purpose SSD (gp2) provisioned storage - EU (Paris)","2026-07-01","0","Inf","GB-Mo","0.1160000000","USD","","","Storage","EU (Paris)","AWS Region","","","","","EUW3-EBS:VolumeUsage.gp2","","","","","","eu-west-3","gp2"
        "NNNN4446","JRTCKXETXF","NNNN4446.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.11 per GB-month of General Purpose (gp3) provisioned storage - France (Marseille)","2026-07-01","0","Inf","GB-Mo","0.1100000000","USD","","","Storage","France (Marseille)","AWS Local Zone","","","","","EUW3-MRS1-EBS:VolumeUsage.gp3","","","","","","eu-west-3","gp3"
        "PPPP5555","JRTCKXETXF","PPPP5555.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.005 per IOPS-month provisioned above 3000, gp3","2026-07-01","0","Inf","IOPS-Mo","0.0058000000","USD","","","System Operation","EU (Paris)","AWS Region","","","","","EUW3-EBS:VolumeP-IOPS.gp3","","","","","","eu-west-3","gp3"
        "QQQQ6666","JRTCKXETXF","QQQQ6666.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.053 per GB-Month of snapshot data stored - EU (Paris)","2026-07-01","0","Inf","GB-Mo","0.0530000000","USD","","","Storage Snapshot","EU (Paris)","AWS Region","","","","","EUW3-EBS:SnapshotUsage","","","","","","eu-west-3",""
        "QQQQ6667","JRTCKXETXF","QQQQ6667.JRTCKXETXF.6YS6EN2CT7","OnDemand","$0.01325 per GB-Month of snapshot archive data stored - EU (Paris)","2026-07-01","0","Inf","GB-Mo","0.0132500000","USD","","","Storage Snapshot","EU (Paris)","AWS Region","","","","","EUW3-EBS:SnapshotArchiveStorage","","","","","","eu-west-3",""

        """;
}
