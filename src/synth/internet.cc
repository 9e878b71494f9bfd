#include "synth/internet.h"

#include <array>
#include <cassert>
#include <iterator>

#include "synth/rng.h"

namespace flowlake::synth {

namespace {

using P = Prefix4;
using Names = std::string_view;

constexpr P kGoogleNets[] = {{Ipv4(142, 250, 0, 0), 15}, {Ipv4(172, 217, 0, 0), 16}, {Ipv4(216, 58, 192, 0), 19}};
constexpr Names kGoogleHosts[] = {
    "www.google.com",        "www.gstatic.com",          "fonts.googleapis.com",   "accounts.google.com",
    "mail.google.com",       "docs.google.com",          "clients4.google.com",    "update.googleapis.com",
    "safebrowsing.googleapis.com", "www.googleapis.com", "drive.google.com",       "ssl.gstatic.com",
    "lh3.googleusercontent.com",   "apis.google.com",    "play.google.com",        "meet.google.com"};
constexpr Names kYoutubeHosts[] = {
    "www.youtube.com", "i.ytimg.com", "rr2---sn-uxaxjvhxbt2u-j5pz.googlevideo.com",
    "rr4---sn-h5q7knes.googlevideo.com", "yt3.ggpht.com", "rr1---sn-4g5lne7s.googlevideo.com"};
constexpr P kM365Nets[] = {{Ipv4(52, 96, 0, 0), 14}, {Ipv4(13, 107, 6, 0), 24}, {Ipv4(40, 96, 0, 0), 13}};
constexpr Names kM365Hosts[] = {
    "login.microsoftonline.com", "www.office.com", "acme.sharepoint.com", "acme-my.sharepoint.com",
    "substrate.office.com", "graph.microsoft.com", "nexus.officeapps.live.com",
    "officeclient.microsoft.com", "ecs.office.com", "res.cdn.office.net"};
constexpr Names kOutlookHosts[] = {"outlook.office365.com", "outlook.office.com", "attachments.office.net",
                                   "outlook.live.com"};
constexpr P kTeamsNets[] = {{Ipv4(52, 112, 0, 0), 14}, {Ipv4(52, 120, 0, 0), 14}};
constexpr Names kTeamsHosts[] = {"teams.microsoft.com", "presence.teams.microsoft.com",
                                 "statics.teams.cdn.office.net", "api.flightproxy.teams.microsoft.com",
                                 "teams.events.data.microsoft.com", "config.teams.microsoft.com"};
constexpr P kMicrosoftNets[] = {{Ipv4(20, 40, 0, 0), 13}, {Ipv4(13, 64, 0, 0), 11}};
constexpr Names kMicrosoftHosts[] = {
    "settings-win.data.microsoft.com", "v10.events.data.microsoft.com", "www.microsoft.com",
    "login.live.com", "www.bing.com", "edge.microsoft.com", "arc.msn.com",
    "self.events.data.microsoft.com", "wdcp.microsoft.com", "functional.events.data.microsoft.com"};
constexpr P kWindowsUpdateNets[] = {{Ipv4(13, 107, 4, 0), 24}, {Ipv4(8, 241, 0, 0), 16}};
constexpr Names kWindowsUpdateHosts[] = {"fe2.update.microsoft.com", "sls.update.microsoft.com",
                                         "tlu.dl.delivery.mp.microsoft.com", "slscr.update.microsoft.com",
                                         "kv801.prod.do.dsp.mp.microsoft.com", "fe3cr.delivery.mp.microsoft.com"};
constexpr P kAzureNets[] = {{Ipv4(20, 150, 0, 0), 15}, {Ipv4(52, 239, 0, 0), 16}};
constexpr Names kAzureHosts[] = {"acmebackup.blob.core.windows.net", "management.azure.com", "portal.azure.com",
                                 "acme-kv.vault.azure.net", "acmeprod.database.windows.net"};
constexpr P kOneDriveNets[] = {{Ipv4(13, 107, 42, 0), 24}};
constexpr Names kOneDriveHosts[] = {"g.live.com", "skyapi.onedrive.live.com", "api.onedrive.com",
                                    "onedrive.live.com"};
constexpr P kAwsNets[] = {{Ipv4(52, 216, 0, 0), 15}, {Ipv4(3, 5, 0, 0), 16}, {Ipv4(18, 64, 0, 0), 14}};
constexpr Names kAwsHosts[] = {"s3.amazonaws.com", "s3.us-east-1.amazonaws.com", "sts.amazonaws.com",
                               "acme-artifacts.s3.eu-west-1.amazonaws.com", "ec2.eu-west-1.amazonaws.com",
                               "dynamodb.us-east-1.amazonaws.com", "logs.eu-west-1.amazonaws.com",
                               "ssm.eu-west-1.amazonaws.com"};
constexpr P kAmazonNets[] = {{Ipv4(54, 239, 0, 0), 17}};
constexpr Names kAmazonHosts[] = {"www.amazon.com", "m.media-amazon.com", "images-na.ssl-images-amazon.com",
                                  "fls-na.amazon.com", "completion.amazon.com"};
constexpr P kGithubNets[] = {{Ipv4(140, 82, 112, 0), 20}, {Ipv4(185, 199, 108, 0), 22}};
constexpr Names kGithubHosts[] = {"github.com", "api.github.com", "objects.githubusercontent.com",
                                  "raw.githubusercontent.com", "avatars.githubusercontent.com",
                                  "codeload.github.com", "github.githubassets.com", "collector.github.com"};
constexpr P kSlackNets[] = {{Ipv4(3, 120, 0, 0), 14}};
constexpr Names kSlackHosts[] = {"app.slack.com", "edgeapi.slack.com", "wss-primary.slack.com", "a.slack-edge.com",
                                 "files.slack.com", "slack.com"};
constexpr P kZoomNets[] = {{Ipv4(170, 114, 0, 0), 16}};
constexpr Names kZoomHosts[] = {"zoom.us", "us05web.zoom.us", "us04st1.zoom.us", "log.zoom.us"};
constexpr P kSalesforceNets[] = {{Ipv4(136, 146, 0, 0), 15}};
constexpr Names kSalesforceHosts[] = {"acme.my.salesforce.com", "login.salesforce.com", "acme.lightning.force.com",
                                      "static.lightning.force.com"};
constexpr P kLinkedinNets[] = {{Ipv4(108, 174, 0, 0), 20}};
constexpr Names kLinkedinHosts[] = {"www.linkedin.com", "static.licdn.com", "media.licdn.com"};
constexpr P kCloudflareNets[] = {{Ipv4(104, 16, 0, 0), 13}, {Ipv4(172, 64, 0, 0), 13}};
constexpr Names kCloudflareHosts[] = {"cdnjs.cloudflare.com", "challenges.cloudflare.com", "www.cloudflare.com",
                                      "cloudflare-dns.com"};
constexpr P kAppleNets[] = {{Ipv4(17, 0, 0, 0), 8}};
constexpr Names kAppleHosts[] = {"gsp-ssl.ls.apple.com", "mesu.apple.com", "configuration.apple.com",
                                 "xp.apple.com", "swcdn.apple.com"};
constexpr Names kIcloudHosts[] = {"gateway.icloud.com", "p45-caldav.icloud.com", "setup.icloud.com",
                                  "keyvalueservice.icloud.com"};
constexpr P kNetflixNets[] = {{Ipv4(45, 57, 0, 0), 17}};
constexpr Names kNetflixHosts[] = {"www.netflix.com", "ipv4-c001-par001-ix.1.oca.nflxvideo.net",
                                   "assets.nflxext.com"};
constexpr P kSpotifyNets[] = {{Ipv4(35, 186, 224, 0), 20}};
constexpr Names kSpotifyHosts[] = {"spclient.wg.spotify.com", "apresolve.spotify.com",
                                   "audio-ak-spotify-com.akamaized.net"};
constexpr P kWebexNets[] = {{Ipv4(170, 72, 0, 0), 16}};
constexpr Names kWebexHosts[] = {"acme.webex.com", "idbroker.webex.com", "wdm-a.wbx2.com"};
constexpr P kGenericNets[] = {{Ipv4(192, 0, 2, 0), 24},     {Ipv4(198, 51, 100, 0), 24},
                              {Ipv4(203, 0, 113, 0), 24},   {Ipv4(151, 101, 0, 0), 16},
                              {Ipv4(23, 32, 0, 0), 11},     {Ipv4(185, 15, 58, 0), 24}};
constexpr Names kGenericHosts[] = {
    "acme.atlassian.net", "acme.okta.com", "stackoverflow.com", "cdn.jsdelivr.net", "pypi.org",
    "files.pythonhosted.org", "registry.npmjs.org", "www.wikipedia.org", "browser-intake-datadoghq.eu",
    "o450123.ingest.sentry.io", "api.segment.io", "www.bbc.co.uk", "www.lemonde.fr", "www.nytimes.com",
    "news.ycombinator.com", "www.theguardian.com", "cdn.cookielaw.org", "static.zdassets.com",
    "registry-1.docker.io", "hub.docker.com", "docs.python.org", "www.example.com", "updates.jenkins.io",
    "www.reuters.com"};

constexpr Org kOrgs[] = {
    {"google", 126, "Google", kGoogleNets, 0x4860, kGoogleHosts, 8, 14, 55, 1, 0.95},
    {"youtube", 124, "YouTube", kGoogleNets, 0x4861, kYoutubeHosts, 8, 2.5, 25, 30, 0.95},
    {"microsoft365", 219, "Microsoft365", kM365Nets, 0x0365, kM365Hosts, 12, 12, 0, 1, 0.8},
    {"outlook", 21, "Outlook", kM365Nets, 0x0366, kOutlookHosts, 12, 6, 0, 2, 0.8},
    {"teams", 250, "Teams", kTeamsNets, 0x0367, kTeamsHosts, 14, 6, 0, 1, 0.8},
    {"microsoft", 212, "Microsoft", kMicrosoftNets, 0x0368, kMicrosoftHosts, 14, 7, 0, 0.5, 0.7},
    {"windowsupdate", 147, "WindowsUpdate", kWindowsUpdateNets, 0, kWindowsUpdateHosts, 10, 2, 0, 25, 0.3},
    {"azure", 276, "Azure", kAzureNets, 0x0369, kAzureHosts, 16, 2, 0, 3, 0.6},
    {"onedrive", 221, "MS_OneDrive", kOneDriveNets, 0x036a, kOneDriveHosts, 12, 1.5, 0, 6, 0.8},
    {"aws", 265, "AmazonAWS", kAwsNets, 0x0aa5, kAwsHosts, 20, 5, 0, 3, 0.7},
    {"amazon", 178, "Amazon", kAmazonNets, 0x0aa6, kAmazonHosts, 22, 1.5, 0, 1, 0.9},
    {"github", 203, "Github", kGithubNets, 0, kGithubHosts, 25, 4, 0, 2, 0.9},
    {"slack", 118, "Slack", kSlackNets, 0x05ac, kSlackHosts, 20, 4, 0, 0.8, 0.95},
    {"zoom", 189, "Zoom", kZoomNets, 0, kZoomHosts, 30, 1.5, 0, 1, 0.7},
    {"salesforce", 266, "Salesforce", kSalesforceNets, 0, kSalesforceHosts, 35, 2, 0, 1, 0.9},
    {"linkedin", 233, "LinkedIn", kLinkedinNets, 0x0117, kLinkedinHosts, 18, 1.5, 0, 1, 0.9},
    {"cloudflare", 220, "Cloudflare", kCloudflareNets, 0x0cf1, kCloudflareHosts, 5, 3, 10, 1, 1.0},
    {"apple", 140, "Apple", kAppleNets, 0x0a11, kAppleHosts, 15, 2, 0, 2, 0.9},
    {"icloud", 143, "AppleiCloud", kAppleNets, 0x0a12, kIcloudHosts, 15, 1, 0, 1, 0.9},
    {"netflix", 133, "NetFlix", kNetflixNets, 0x0f1c, kNetflixHosts, 10, 0.4, 0, 30, 0.9},
    {"spotify", 156, "Spotify", kSpotifyNets, 0x05f0, kSpotifyHosts, 20, 0.7, 0, 5, 0.9},
    {"webex", 141, "Webex", kWebexNets, 0, kWebexHosts, 30, 0.6, 0, 1, 0.8},
    {"generic", 0, "", kGenericNets, 0x0c00, kGenericHosts, 40, 18, 10, 1, 0.75},
};

constexpr HttpEndpoint kHttpEndpoints[] = {
    {"www.msftconnecttest.com", "GET", "/connecttest.txt", false, 0, "", 200, 22, 10},
    {"ctldl.windowsupdate.com", "GET", "/msdownload/update/v3/static/trustedr/en/authrootstl.cab", true, 147,
     "WindowsUpdate", 200, 6000, 6},
    {"download.windowsupdate.com", "GET",
     "/c/msdownload/update/software/defu/2025/11/am_delta_patch_1.441.212.0_d1a7c05b9e1f.exe", false, 147,
     "WindowsUpdate", 200, 900000, 2},
    {"ocsp.digicert.com", "POST", "/", false, 63, "OCSP", 200, 1500, 8},
    {"ocsp.pki.goog", "POST", "/gts1c3", false, 63, "OCSP", 200, 1400, 6},
    {"r11.o.lencr.org", "POST", "/", false, 63, "OCSP", 200, 900, 3},
    {"crl3.digicert.com", "GET", "/DigiCertGlobalRootG2.crl", false, 0, "", 304, 600, 2},
    {"captive.apple.com", "GET", "/hotspot-detect.html", false, 0, "", 200, 69, 2},
    {"detectportal.firefox.com", "GET", "/canonical.html", false, 0, "", 200, 90, 1.5},
    {"connectivitycheck.gstatic.com", "GET", "/generate_204", false, 0, "", 204, 0, 2},
    {"deb.debian.org", "GET", "/debian/dists/bookworm/InRelease", false, 0, "", 304, 150000, 1.5},
    {"deb.debian.org", "GET", "/debian/pool/main/o/openssl/libssl3_3.0.17-1~deb12u2_amd64.deb", false, 0, "",
     200, 2000000, 0.5},
    {"security.debian.org", "GET", "/debian-security/dists/bookworm-security/InRelease", false, 0, "", 200,
     48000, 1},
    {"archive.ubuntu.com", "GET", "/ubuntu/dists/noble-updates/InRelease", false, 0, "", 304, 126000, 1},
    {"example.org", "GET", "/favicon.ico", false, 0, "", 404, 450, 0.5},
    {"example.org", "GET", "/index.html", false, 0, "", 301, 300, 0.5},
};

constexpr Names kHttpOddPaths[] = {
    "/search?q=\"flows\"&lang=fr-\xc3\xa9",
    "/files/C:\\Users\\Public\\report.pdf",
    "/api/v1/items?filter={\"site\":\"lyon\"}",
    "/stra\xc3\x9f" "e/m\xc3\xbcnchen?tab=\t",
};

constexpr PublicResolver kPublicResolvers[] = {
    {Ipv4(8, 8, 8, 8), 126, "Google"},
    {Ipv4(1, 1, 1, 1), 220, "Cloudflare"},
    {Ipv4(9, 9, 9, 9), 0, ""},
    {Ipv4(8, 8, 4, 4), 126, "Google"},
};

constexpr Names kInternalNames[] = {
    "dc01.corp.example.com",  "fs01.corp.example.com",    "intranet.corp.example.com",
    "_ldap._tcp.dc._msdcs.corp.example.com", "_kerberos._tcp.corp.example.com",
    "jira.corp.example.com",  "gitlab.corp.example.com",  "print01.corp.example.com",
    "wpad.corp.example.com",  "vault.corp.example.com",   "grafana.corp.example.com",
    "sccm.corp.example.com",  "dc02.corp.example.com",    "proxy.corp.example.com"};

constexpr Names kIntranetSites[] = {"intranet.corp.example.com", "jira.corp.example.com",
                                    "gitlab.corp.example.com",   "vault.corp.example.com",
                                    "grafana.corp.example.com",  "wiki.corp.example.com"};

}  // namespace

std::span<const Org> Orgs() { return kOrgs; }

size_t OrgIndex(std::string_view name) {
  for (size_t i = 0; i < std::size(kOrgs); ++i) {
    if (kOrgs[i].name == name) return i;
  }
  assert(false && "unknown org");
  return std::size(kOrgs) - 1;
}
std::span<const HttpEndpoint> HttpEndpoints() { return kHttpEndpoints; }
std::span<const std::string_view> HttpOddPaths() { return kHttpOddPaths; }
std::span<const PublicResolver> PublicResolvers() { return kPublicResolvers; }
std::span<const std::string_view> InternalNames() { return kInternalNames; }
std::span<const std::string_view> IntranetSites() { return kIntranetSites; }

IpAddress OrgServer(const Org& org, uint32_t n, bool v6) {
  const uint64_t h = Mix64(Mix64(org.app_id, org.v6_tag), n % kServersPerOrg);
  if (v6 && org.v6_tag != 0) {
    return IpAddress::V6({0x2001, 0x0db8, org.v6_tag, static_cast<uint16_t>(h >> 48 & 0xff), 0, 0,
                          static_cast<uint16_t>(h >> 16 & 0xfff), static_cast<uint16_t>(h & 0xff)});
  }
  const Prefix4& prefix = org.prefixes[(h >> 32) % org.prefixes.size()];
  const uint32_t host_bits = 32 - prefix.bits;
  const uint32_t mask = host_bits >= 32 ? 0xffffffffu : (1u << host_bits) - 1;
  uint32_t offset = static_cast<uint32_t>(h) & mask;
  // Avoid network and broadcast-looking addresses (.0 / .255).
  if ((offset & 0xff) == 0 || (offset & 0xff) == 255) offset ^= 0x11;
  return IpAddress::V4(prefix.base | offset);
}

}  // namespace flowlake::synth
