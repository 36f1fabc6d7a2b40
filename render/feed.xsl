<?xml version="1.0" encoding="UTF-8"?>
<!-- feed.xsl - espigate render: the aggregate document (render/aggxml.c)
     as one self-contained HTML page.

     Input is never a raw feed: it is our own small vocabulary with every
     number already formatted exactly by the C side (report/usage-point/
     channel/day|hour, net/day, summary/item, notes/note).  This sheet only
     lays it out: tables with captions and scoped headers, and inline SVG
     charts (role="img" with title and desc) whose geometry comes from
     number() on the formatted values.  No script, no external resource.
     Never use disable-output-escaping here: feed text must stay text. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:svg="http://www.w3.org/2000/svg" exclude-result-prefixes="svg">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <!-- chart geometry (px) -->
  <xsl:variable name="W" select="760"/>
  <xsl:variable name="H" select="240"/>
  <xsl:variable name="L" select="64"/>
  <xsl:variable name="R" select="12"/>
  <xsl:variable name="T" select="16"/>
  <xsl:variable name="B" select="44"/>

  <xsl:template match="/report">
    <html lang="en">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="generator" content="{@generator}"/>
        <title><xsl:value-of select="title"/> - Green Button report</title>
        <style>
body { font: 15px/1.45 system-ui, "Segoe UI", "DejaVu Sans", sans-serif; color: #1a1a1a;
       background: #fff; margin: 0 auto; max-width: 62rem; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: .5rem 0; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 2px solid #1f5f9e; padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
p.meta, .muted { color: #4a4a4a; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #b8b8b8; padding: .25rem .55rem; vertical-align: top; }
thead th { background: #e8eef5; }
tbody th { text-align: left; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
tr.q-est td, tr.q-est th { background: #fff1d6; }
tr.q-miss td, tr.q-miss th { background: #fde4e4; }
.tag { display: inline-block; font-size: .8rem; border-radius: .25rem; padding: 0 .35rem;
       margin-left: .3rem; border: 1px solid currentColor; }
.tag.est { color: #7a3d00; }
.tag.miss { color: #9b1c1c; }
.tag.dst { color: #1f4f7e; }
aside.note { border-left: 4px solid #b35900; background: #fff7ea; padding: .4rem .8rem; margin: .5rem 0; }
figure { margin: 1rem 0; }
figcaption { font-size: .9rem; color: #4a4a4a; }
svg { max-width: 100%; height: auto; background: #fff; }
svg text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #333; }
svg .bar { fill: #1f5f9e; }
svg .bar.est { fill: #b35900; }
svg .bar.neg { fill: #2e7d32; }
svg .nodata { fill: #c62828; }
svg .axis { stroke: #555; stroke-width: 1; }
svg .grid { stroke: #ddd; stroke-width: 1; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
details summary { cursor: pointer; color: #1f4f7e; }
        </style>
      </head>
      <body>
        <header>
          <h1><xsl:value-of select="title"/></h1>
          <p class="meta">
            <xsl:text>Green Button data from </xsl:text><strong><xsl:value-of select="source"/></strong>
            <xsl:if test="string(feed/@title) and string(feed/@title) != string(title)">
              <xsl:text> (feed "</xsl:text><xsl:value-of select="feed/@title"/><xsl:text>")</xsl:text>
            </xsl:if>
            <xsl:if test="string(feed/@updated)">
              <xsl:text>, updated </xsl:text><xsl:value-of select="feed/@updated"/>
            </xsl:if>
            <xsl:text>.</xsl:text>
          </p>
          <xsl:apply-templates select="time"/>
        </header>
        <xsl:for-each select="notes/note">
          <aside class="note" role="note"><strong>Note: </strong><xsl:value-of select="."/></aside>
        </xsl:for-each>
        <main>
          <xsl:apply-templates select="usage-point"/>
          <xsl:if test="not(usage-point)">
            <p>This feed holds no usage data (no UsagePoint, MeterReading or IntervalBlock).</p>
          </xsl:if>
        </main>
        <footer><p class="muted">Made by <xsl:value-of select="@generator"/>. Values are exact
          decimals of the feed's integers; costs are rounded to cents.</p></footer>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="time">
    <xsl:choose>
      <xsl:when test="@local = '1'">
        <p class="meta">
          <xsl:text>Times are local time of the feed: </xsl:text><xsl:value-of select="@zone"/>
          <xsl:if test="@dst-zone">
            <xsl:text>, </xsl:text><xsl:value-of select="@dst-zone"/>
            <xsl:text> during daylight saving time (from the </xsl:text><xsl:value-of select="@dst-start"/>
            <xsl:text> to the </xsl:text><xsl:value-of select="@dst-end"/><xsl:text>)</xsl:text>
          </xsl:if>
          <xsl:if test="string(@name)">
            <xsl:text>; LocalTimeParameters "</xsl:text><xsl:value-of select="@name"/><xsl:text>"</xsl:text>
          </xsl:if>
          <xsl:text>. A day is a local calendar day.</xsl:text>
        </p>
      </xsl:when>
      <xsl:otherwise><p class="meta">Times are UTC (the feed gives no local time).</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ===== usage point ===== -->
  <xsl:template match="usage-point">
    <section>
      <h2>
        <xsl:text>Usage point: </xsl:text><xsl:value-of select="@title"/>
        <xsl:if test="string(@service)"> (<xsl:value-of select="@service"/>)</xsl:if>
      </h2>
      <xsl:if test="channel">
        <table>
          <caption>Meter readings at this usage point</caption>
          <thead><tr>
            <th scope="col">Meter reading</th><th scope="col">Reading type</th>
            <th scope="col">From (local)</th><th scope="col">To (local)</th>
            <th scope="col">Readings</th><th scope="col">Total</th><th scope="col">Cost</th>
            <th scope="col">Data quality</th>
          </tr></thead>
          <tbody>
            <xsl:for-each select="channel">
              <tr>
                <th scope="row"><xsl:value-of select="@title"/>
                  <xsl:if test="@role = 'import'"> <span class="tag">import</span></xsl:if>
                  <xsl:if test="@role = 'export'"> <span class="tag">export</span></xsl:if>
                </th>
                <td><xsl:value-of select="@reading-type"/></td>
                <td><xsl:value-of select="@first"/></td>
                <td><xsl:value-of select="@last"/></td>
                <td class="num"><xsl:value-of select="@readings"/></td>
                <td class="num"><xsl:value-of select="@total"/><xsl:text> </xsl:text><xsl:value-of select="@unit"/></td>
                <td class="num"><xsl:call-template name="money"><xsl:with-param name="v" select="@cost-total"/><xsl:with-param name="c" select="@currency"/></xsl:call-template></td>
                <td><xsl:call-template name="quality"/></td>
              </tr>
            </xsl:for-each>
          </tbody>
        </table>
      </xsl:if>
      <xsl:apply-templates select="channel"/>
      <xsl:apply-templates select="net"/>
      <xsl:if test="summary">
        <xsl:call-template name="summaries"/>
      </xsl:if>
    </section>
  </xsl:template>

  <xsl:template name="quality">
    <xsl:choose>
      <xsl:when test="@est = 0 and @flagged = 0 and @missing = 0 and @nodata = 0">no gaps, no estimates</xsl:when>
      <xsl:otherwise>
        <xsl:if test="@est &gt; 0"><span class="tag est"><xsl:value-of select="@est"/> estimated</span></xsl:if>
        <xsl:if test="@flagged &gt; 0"><span class="tag est"><xsl:value-of select="@flagged"/> edited or questionable</span></xsl:if>
        <xsl:if test="@missing + @nodata &gt; 0"><span class="tag miss"><xsl:value-of select="@missing + @nodata"/> missing</span></xsl:if>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="money">
    <xsl:param name="v"/>
    <xsl:param name="c"/>
    <xsl:if test="string($v)">
      <xsl:value-of select="$v"/>
      <xsl:if test="string($c)"><xsl:text> </xsl:text><xsl:value-of select="$c"/></xsl:if>
    </xsl:if>
  </xsl:template>

  <!-- ===== one channel ===== -->
  <xsl:template match="channel">
    <xsl:variable name="what">
      <xsl:choose>
        <xsl:when test="@bucket = 'period'">Usage per reading period</xsl:when>
        <xsl:otherwise>Daily usage</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <section>
      <h3><xsl:value-of select="@title"/></h3>
      <dl class="facts">
        <dt>Reading type</dt><dd><xsl:value-of select="@reading-type"/></dd>
        <xsl:if test="string(@commodity)"><dt>Commodity</dt><dd><xsl:value-of select="@commodity"/></dd></xsl:if>
        <dt>Period (local)</dt><dd><xsl:value-of select="@first"/> to <xsl:value-of select="@last"/></dd>
        <dt>Total</dt><dd><xsl:value-of select="@total"/><xsl:text> </xsl:text><xsl:value-of select="@unit"/>
          <xsl:if test="string(@cost-total)">, cost <xsl:call-template name="money"><xsl:with-param name="v" select="@cost-total"/><xsl:with-param name="c" select="@currency"/></xsl:call-template></xsl:if></dd>
        <dt>Data quality</dt><dd><xsl:call-template name="quality"/></dd>
      </dl>
      <xsl:if test="day[@value]">
        <xsl:call-template name="bar-chart">
          <xsl:with-param name="rows" select="day"/>
          <xsl:with-param name="title" select="concat($what, ', ', @title, ' (', @unit, ')')"/>
          <xsl:with-param name="unit" select="@unit"/>
          <xsl:with-param name="labelattr" select="'date'"/>
        </xsl:call-template>
      </xsl:if>
      <xsl:if test="hour[@avg]">
        <xsl:call-template name="bar-chart">
          <xsl:with-param name="rows" select="hour"/>
          <xsl:with-param name="title" select="concat('Average load profile over 24 hours, ', @title, ' (', @unit, ' per hour)')"/>
          <xsl:with-param name="unit" select="concat(@unit, ' per hour')"/>
          <xsl:with-param name="labelattr" select="'label'"/>
        </xsl:call-template>
      </xsl:if>
      <xsl:if test="day">
        <details>
          <summary><xsl:value-of select="$what"/> as a table (<xsl:value-of select="count(day)"/> rows)</summary>
          <table>
            <caption><xsl:value-of select="$what"/>, <xsl:value-of select="@title"/></caption>
            <thead><tr>
              <th scope="col">Date (local)</th><th scope="col">Day</th>
              <th scope="col">Usage (<xsl:value-of select="@unit"/>)</th>
              <xsl:if test="string(@cost-total)"><th scope="col">Cost</th></xsl:if>
              <th scope="col">Readings</th><th scope="col">Quality</th>
            </tr></thead>
            <tbody>
              <xsl:variable name="costcol" select="string(@cost-total) != ''"/>
              <xsl:for-each select="day">
                <tr>
                  <xsl:attribute name="class">
                    <xsl:choose>
                      <xsl:when test="@missing &gt; 0 or @nodata &gt; 0 or not(@value)">q-miss</xsl:when>
                      <xsl:when test="@est &gt; 0 or @flagged &gt; 0">q-est</xsl:when>
                      <xsl:otherwise>q-ok</xsl:otherwise>
                    </xsl:choose>
                  </xsl:attribute>
                  <th scope="row"><xsl:value-of select="@date"/>
                    <xsl:if test="@hours != 24"> <span class="tag dst"><xsl:value-of select="@hours"/>-hour day</span></xsl:if>
                  </th>
                  <td><xsl:value-of select="@dow"/></td>
                  <td class="num"><xsl:value-of select="@value"/></td>
                  <xsl:if test="$costcol"><td class="num"><xsl:value-of select="@cost"/></td></xsl:if>
                  <td class="num"><xsl:value-of select="@n"/></td>
                  <td><xsl:call-template name="quality"/></td>
                </tr>
              </xsl:for-each>
            </tbody>
          </table>
        </details>
      </xsl:if>
    </section>
  </xsl:template>

  <!-- ===== net metering ===== -->
  <xsl:template match="net">
    <section>
      <h3>Net metering: import and export</h3>
      <p>Import is energy delivered to the premises ("<xsl:value-of select="@import"/>"); export is
        energy received from it ("<xsl:value-of select="@export"/>"). Net = import - export;
        a negative net means more was exported than imported.</p>
      <xsl:call-template name="bar-chart">
        <xsl:with-param name="rows" select="day"/>
        <xsl:with-param name="title" select="concat('Daily net usage (import - export, ', @unit, ')')"/>
        <xsl:with-param name="unit" select="@unit"/>
        <xsl:with-param name="labelattr" select="'date'"/>
        <xsl:with-param name="valueattr" select="'net'"/>
      </xsl:call-template>
      <table>
        <caption>Daily import, export and net (<xsl:value-of select="@unit"/>)</caption>
        <thead><tr><th scope="col">Date (local)</th><th scope="col">Import</th>
          <th scope="col">Export</th><th scope="col">Net</th></tr></thead>
        <tbody>
          <xsl:for-each select="day">
            <tr><th scope="row"><xsl:value-of select="@date"/></th>
              <td class="num"><xsl:value-of select="@import"/></td>
              <td class="num"><xsl:value-of select="@export"/></td>
              <td class="num"><xsl:value-of select="@net"/></td></tr>
          </xsl:for-each>
        </tbody>
      </table>
    </section>
  </xsl:template>

  <!-- ===== billing ===== -->
  <xsl:template name="summaries">
    <section>
      <h3>Billing periods</h3>
      <table>
        <caption>Usage summaries (bills)</caption>
        <thead><tr>
          <th scope="col">Billing period (local)</th><th scope="col">Days</th>
          <th scope="col">Consumption last period</th><th scope="col">Bill last period</th>
          <th scope="col">Additional cost</th><th scope="col">Consumption this period</th>
          <th scope="col">Bill to date</th><th scope="col">Quality</th>
        </tr></thead>
        <tbody>
          <xsl:for-each select="summary">
            <tr>
              <th scope="row"><xsl:value-of select="@start"/> to <xsl:value-of select="@end"/></th>
              <td class="num"><xsl:value-of select="@days"/></td>
              <td class="num"><xsl:value-of select="@consumption-last-period"/><xsl:text> </xsl:text><xsl:value-of select="@consumption-last-period-unit"/></td>
              <td class="num"><xsl:call-template name="money"><xsl:with-param name="v" select="@bill-last-period"/><xsl:with-param name="c" select="@currency"/></xsl:call-template></td>
              <td class="num"><xsl:call-template name="money"><xsl:with-param name="v" select="@cost-additional"/><xsl:with-param name="c" select="@currency"/></xsl:call-template></td>
              <td class="num"><xsl:value-of select="@consumption-this-period"/><xsl:text> </xsl:text><xsl:value-of select="@consumption-this-period-unit"/></td>
              <td class="num"><xsl:call-template name="money"><xsl:with-param name="v" select="@bill-to-date"/><xsl:with-param name="c" select="@currency"/></xsl:call-template></td>
              <td><xsl:value-of select="@quality"/></td>
            </tr>
          </xsl:for-each>
        </tbody>
      </table>
      <xsl:for-each select="summary[item]">
        <table>
          <caption>Line items, billing period <xsl:value-of select="@start"/> to <xsl:value-of select="@end"/></caption>
          <thead><tr><th scope="col">Item</th><th scope="col">Kind</th><th scope="col">Date</th>
            <th scope="col">Amount</th></tr></thead>
          <tbody>
            <xsl:for-each select="item">
              <tr><th scope="row"><xsl:value-of select="@note"/></th>
                <td><xsl:value-of select="@kind"/></td>
                <td><xsl:value-of select="@date"/></td>
                <td class="num"><xsl:call-template name="money"><xsl:with-param name="v" select="@amount"/><xsl:with-param name="c" select="../@currency"/></xsl:call-template></td></tr>
            </xsl:for-each>
          </tbody>
        </table>
      </xsl:for-each>
    </section>
  </xsl:template>

  <!-- ===== SVG bar chart =====
       rows: elements with a value attribute (valueattr, default 'value'
       for day, 'avg' for hour) and a label attribute (labelattr).
       Bars grow up from zero, or down for negative values. -->
  <xsl:template name="bar-chart">
    <xsl:param name="rows"/>
    <xsl:param name="title"/>
    <xsl:param name="unit"/>
    <xsl:param name="labelattr"/>
    <xsl:param name="valueattr" select="'value'"/>
    <xsl:variable name="va">
      <xsl:choose>
        <xsl:when test="name($rows[1]) = 'hour'">avg</xsl:when>
        <xsl:otherwise><xsl:value-of select="$valueattr"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="vals" select="$rows/@*[name() = $va]"/>
    <xsl:variable name="maxv">
      <xsl:for-each select="$vals"><xsl:sort select="." data-type="number" order="descending"/>
        <xsl:if test="position() = 1"><xsl:value-of select="number(.)"/></xsl:if></xsl:for-each>
    </xsl:variable>
    <xsl:variable name="minv">
      <xsl:for-each select="$vals"><xsl:sort select="." data-type="number" order="ascending"/>
        <xsl:if test="position() = 1"><xsl:value-of select="number(.)"/></xsl:if></xsl:for-each>
    </xsl:variable>
    <xsl:variable name="hi"><xsl:choose><xsl:when test="$maxv &gt; 0"><xsl:value-of select="$maxv"/></xsl:when><xsl:otherwise>0</xsl:otherwise></xsl:choose></xsl:variable>
    <xsl:variable name="lo"><xsl:choose><xsl:when test="$minv &lt; 0"><xsl:value-of select="$minv"/></xsl:when><xsl:otherwise>0</xsl:otherwise></xsl:choose></xsl:variable>
    <xsl:variable name="range"><xsl:choose><xsl:when test="$hi - $lo &gt; 0"><xsl:value-of select="$hi - $lo"/></xsl:when><xsl:otherwise>1</xsl:otherwise></xsl:choose></xsl:variable>
    <xsl:variable name="pw" select="$W - $L - $R"/>
    <xsl:variable name="ph" select="$H - $T - $B"/>
    <xsl:variable name="n" select="count($rows)"/>
    <xsl:variable name="slot" select="$pw div $n"/>
    <xsl:variable name="zero" select="$T + $ph * $hi div $range"/>
    <xsl:variable name="every" select="ceiling($n div 8)"/>
    <xsl:variable name="id" select="generate-id($rows[1])"/>
    <xsl:variable name="maxrow" select="$rows[number(@*[name() = $va]) = number($maxv)][1]"/>
    <figure>
      <svg xmlns="http://www.w3.org/2000/svg" role="img" width="{$W}" height="{$H}"
           viewBox="0 0 {$W} {$H}" aria-labelledby="t{$id} d{$id}" class="chart">
        <title id="t{$id}"><xsl:value-of select="$title"/></title>
        <desc id="d{$id}">
          <xsl:value-of select="$n"/><xsl:text> bars from </xsl:text>
          <xsl:value-of select="$rows[1]/@*[name() = $labelattr]"/><xsl:text> to </xsl:text>
          <xsl:value-of select="$rows[last()]/@*[name() = $labelattr]"/>
          <xsl:text>; highest </xsl:text><xsl:value-of select="$maxrow/@*[name() = $va]"/>
          <xsl:text> </xsl:text><xsl:value-of select="$unit"/><xsl:text> at </xsl:text>
          <xsl:value-of select="$maxrow/@*[name() = $labelattr]"/><xsl:text>.</xsl:text>
        </desc>
        <!-- grid and y labels: top, middle, zero (and bottom when negative) -->
        <line class="grid" x1="{$L}" x2="{$W - $R}" y1="{$T}" y2="{$T}"/>
        <text x="{$L - 6}" y="{$T + 4}" text-anchor="end"><xsl:value-of select="format-number($hi, '0.###')"/></text>
        <line class="grid" x1="{$L}" x2="{$W - $R}" y1="{format-number(($T + $zero) div 2, '0.##')}" y2="{format-number(($T + $zero) div 2, '0.##')}"/>
        <text x="{$L - 6}" y="{format-number(($T + $zero) div 2 + 4, '0.##')}" text-anchor="end"><xsl:value-of select="format-number($hi div 2, '0.###')"/></text>
        <xsl:if test="$lo &lt; 0">
          <text x="{$L - 6}" y="{$T + $ph + 4}" text-anchor="end"><xsl:value-of select="format-number($lo, '0.###')"/></text>
        </xsl:if>
        <text x="12" y="{$T + $ph div 2}" transform="rotate(-90 12 {$T + $ph div 2})" text-anchor="middle"><xsl:value-of select="$unit"/></text>
        <xsl:for-each select="$rows">
          <xsl:variable name="i" select="position() - 1"/>
          <xsl:variable name="x" select="$L + $i * $slot + $slot * 0.1"/>
          <xsl:variable name="label" select="@*[name() = $labelattr]"/>
          <xsl:choose>
            <xsl:when test="string(@*[name() = $va]) != ''">
              <xsl:variable name="v" select="number(@*[name() = $va])"/>
              <xsl:variable name="yv" select="$T + $ph * ($hi - $v) div $range"/>
              <xsl:variable name="y"><xsl:choose><xsl:when test="$yv &lt; $zero"><xsl:value-of select="$yv"/></xsl:when><xsl:otherwise><xsl:value-of select="$zero"/></xsl:otherwise></xsl:choose></xsl:variable>
              <xsl:variable name="h"><xsl:choose><xsl:when test="$yv &lt; $zero"><xsl:value-of select="$zero - $yv"/></xsl:when><xsl:otherwise><xsl:value-of select="$yv - $zero"/></xsl:otherwise></xsl:choose></xsl:variable>
              <rect x="{format-number($x, '0.##')}" y="{format-number($y, '0.##')}"
                    width="{format-number($slot * 0.8, '0.##')}" height="{format-number($h, '0.##')}">
                <xsl:attribute name="class">
                  <xsl:text>bar</xsl:text>
                  <xsl:if test="@est &gt; 0 or @flagged &gt; 0"> est</xsl:if>
                  <xsl:if test="$v &lt; 0"> neg</xsl:if>
                </xsl:attribute>
                <title><xsl:value-of select="$label"/>: <xsl:value-of select="@*[name() = $va]"/><xsl:text> </xsl:text><xsl:value-of select="$unit"/>
                  <xsl:if test="@est &gt; 0 or @flagged &gt; 0"> (includes estimated or edited readings)</xsl:if>
                  <xsl:if test="@missing &gt; 0 or @nodata &gt; 0"> (<xsl:value-of select="@missing + @nodata"/> readings missing)</xsl:if></title>
              </rect>
            </xsl:when>
            <xsl:otherwise>
              <rect class="nodata" x="{format-number($x, '0.##')}" y="{format-number($zero - 3, '0.##')}"
                    width="{format-number($slot * 0.8, '0.##')}" height="3">
                <title><xsl:value-of select="$label"/>: no data</title>
              </rect>
            </xsl:otherwise>
          </xsl:choose>
          <xsl:if test="$i mod $every = 0">
            <text x="{format-number($x + $slot * 0.4, '0.##')}" y="{$H - $B + 16}" text-anchor="middle">
              <xsl:choose>
                <xsl:when test="string-length($label) = 10"><xsl:value-of select="substring($label, 6)"/></xsl:when>
                <xsl:otherwise><xsl:value-of select="$label"/></xsl:otherwise>
              </xsl:choose>
            </text>
          </xsl:if>
        </xsl:for-each>
        <line class="axis" x1="{$L}" x2="{$W - $R}" y1="{format-number($zero, '0.##')}" y2="{format-number($zero, '0.##')}"/>
        <line class="axis" x1="{$L}" x2="{$L}" y1="{$T}" y2="{$T + $ph}"/>
        <xsl:if test="string-length($rows[1]/@*[name() = $labelattr]) = 10">
          <text x="{$L}" y="{$H - 6}"><xsl:value-of select="substring($rows[1]/@*[name() = $labelattr], 1, 4)"/> (month-day, local)</text>
        </xsl:if>
      </svg>
      <figcaption><xsl:value-of select="$title"/>.
        <xsl:if test="$rows[@est &gt; 0 or @flagged &gt; 0]"> Orange bars include estimated or edited readings.</xsl:if>
        <xsl:if test="$rows[not(@*[name() = $va])]"> Red marks are days without data.</xsl:if>
      </figcaption>
    </figure>
  </xsl:template>
</xsl:stylesheet>
